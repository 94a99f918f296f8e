#include "auth/policy.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "base/hcl.h"

namespace sealbox::auth {

namespace {

// Messages echo keys and capability words (policy structure, chosen by the
// operator), never parameter values. Long names are cut so an error body stays
// small.
std::string Quote(std::string_view s) {
  constexpr size_t kMax = 128;
  std::string out = "\"";
  if (s.size() > kMax) {
    out.append(s.substr(0, kMax));
    out += "...";
  } else {
    out.append(s);
  }
  out += '"';
  return out;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Status PathError(std::string_view path, std::string msg) {
  return InvalidArgument("path " + Quote(path) + ": " + msg);
}

// A string list given as ["a","b"] or a single "a".
Result<std::vector<std::string>> StringList(std::string_view path, std::string_view key, const Json& v) {
  std::vector<std::string> out;
  if (v.is_null()) return out;
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
    return out;
  }
  if (!v.is_array()) return PathError(path, std::string(key) + " must be a list of strings");
  for (const auto& e : v) {
    if (!e.is_string()) return PathError(path, std::string(key) + " must be a list of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

Status AddCapability(std::string_view path, std::string_view cap, uint32_t* bits) {
  if (cap == "deny") *bits |= kCapDeny;
  else if (cap == "create") *bits |= kCapCreate;
  else if (cap == "read") *bits |= kCapRead;
  else if (cap == "update") *bits |= kCapUpdate;
  else if (cap == "delete") *bits |= kCapDelete;
  else if (cap == "list") *bits |= kCapList;
  else if (cap == "sudo") *bits |= kCapSudo;
  else if (cap == "patch") *bits |= kCapPatch;
  else if (cap == "subscribe" || cap == "recover") {
    // Parsed for compatibility with newer Vault policies; grants nothing here.
  } else {
    return PathError(path, "invalid capability " + Quote(cap));
  }
  return Status::Ok();
}

// Legacy `policy = "..."` (pre-0.5 Vault), mapped as Vault does.
Status AddLegacyPolicy(std::string_view path, const Json& v, uint32_t* bits) {
  if (!v.is_string()) return PathError(path, "policy must be a string");
  const std::string& p = v.get_ref<const std::string&>();
  constexpr uint32_t kWrite = kCapCreate | kCapRead | kCapUpdate | kCapDelete | kCapList;
  if (p == "deny") *bits |= kCapDeny;
  else if (p == "read") *bits |= kCapRead | kCapList;
  else if (p == "write") *bits |= kWrite;
  else if (p == "sudo") *bits |= kWrite | kCapSudo;
  else return PathError(path, "invalid policy " + Quote(p));
  return Status::Ok();
}

// allowed_parameters / denied_parameters: {"key": [values...]}. HCL block
// syntax may also produce a list of such objects; they are merged.
Status ParseParamMap(std::string_view path, std::string_view key, const Json& v,
                     std::map<std::string, std::vector<Json>>* out) {
  auto add_object = [&](const Json& obj) -> Status {
    if (!obj.is_object()) return PathError(path, std::string(key) + " must be a map");
    for (const auto& [param, values] : obj.items()) {
      auto& slot = (*out)[ToLower(param)];
      if (values.is_null()) continue;  // same as []: any value
      if (values.is_array()) {
        for (const auto& e : values) slot.push_back(e);
      } else {
        slot.push_back(values);  // a lone value is a one-element list
      }
    }
    return Status::Ok();
  };
  if (v.is_null()) return Status::Ok();
  if (v.is_array()) {
    for (const auto& e : v) SB_RETURN_IF_ERROR(add_object(e));
    return Status::Ok();
  }
  return add_object(v);
}

Result<int64_t> ParseTtl(std::string_view path, std::string_view key, const Json& v) {
  auto r = JsonToDurationSeconds(v);
  if (!r.ok() || *r < 0) return PathError(path, "invalid " + std::string(key));
  return *r;
}

Result<PathRules> ParsePathBody(std::string_view raw_path, const Json& body) {
  PathRules rules;
  rules.path = std::string(raw_path);
  // Vault strips exactly one leading slash from policy paths.
  if (!rules.path.empty() && rules.path.front() == '/') rules.path.erase(0, 1);
  const std::string& path = rules.path;

  if (path.find("+*") != std::string::npos) {
    return PathError(path, "invalid use of wildcards ('+*' is forbidden)");
  }
  rules.templated = path.find("{{") != std::string::npos;
  if (body.is_null()) return rules;  // `path "x" {}`: matches, grants nothing
  if (!body.is_object()) return PathError(path, "expected a block");

  uint32_t bits = 0;
  for (const auto& [key, v] : body.items()) {
    if (key == "capabilities") {
      SB_ASSIGN_OR_RETURN(auto caps, StringList(path, key, v));
      for (const auto& c : caps) SB_RETURN_IF_ERROR(AddCapability(path, c, &bits));
    } else if (key == "policy") {
      SB_RETURN_IF_ERROR(AddLegacyPolicy(path, v, &bits));
    } else if (key == "allowed_parameters") {
      SB_RETURN_IF_ERROR(ParseParamMap(path, key, v, &rules.allowed_parameters));
    } else if (key == "denied_parameters") {
      SB_RETURN_IF_ERROR(ParseParamMap(path, key, v, &rules.denied_parameters));
    } else if (key == "required_parameters") {
      SB_ASSIGN_OR_RETURN(auto req, StringList(path, key, v));
      for (auto& r : req) {
        std::string lower = ToLower(r);
        if (std::find(rules.required_parameters.begin(), rules.required_parameters.end(), lower) ==
            rules.required_parameters.end()) {
          rules.required_parameters.push_back(std::move(lower));
        }
      }
    } else if (key == "min_wrapping_ttl") {
      SB_ASSIGN_OR_RETURN(rules.min_wrapping_ttl, ParseTtl(path, key, v));
    } else if (key == "max_wrapping_ttl") {
      SB_ASSIGN_OR_RETURN(rules.max_wrapping_ttl, ParseTtl(path, key, v));
    } else if (key == "mfa_methods" || key == "subscribe_event_types") {
      // Accepted and validated for shape; Sealbox has neither MFA nor events.
      SB_ASSIGN_OR_RETURN(auto ignored, StringList(path, key, v));
      (void)ignored;
    } else if (key == "comment") {
      if (!v.is_string() && !v.is_null()) return PathError(path, "comment must be a string");
    } else {
      return PathError(path, "invalid key " + Quote(key));
    }
  }
  if (rules.min_wrapping_ttl > 0 && rules.max_wrapping_ttl > 0 &&
      rules.max_wrapping_ttl < rules.min_wrapping_ttl) {
    return PathError(path, "max_wrapping_ttl cannot be less than min_wrapping_ttl");
  }
  if (bits & kCapDeny) {
    // A deny entry is deny-only: no other bit and no parameter rules survive.
    rules.caps = kCapDeny;
    rules.allowed_parameters.clear();
    rules.denied_parameters.clear();
    rules.required_parameters.clear();
  } else {
    rules.caps = bits;
  }
  return rules;
}

Result<Json> ParseDocument(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  if (i < text.size() && text[i] == '{') {
    // Policies are operator input but still bounded: deep nesting is never
    // legitimate in a policy.
    JsonLimits limits;
    limits.max_depth = 64;
    limits.max_strings = 1u << 20;
    auto j = ParseJsonBounded(text, limits);
    if (j.ok()) return j;
    // Not JSON after all (e.g. HCL object syntax): let HCL report the error.
  }
  return hcl::Parse(text);
}

}  // namespace

Result<Policy> ParsePolicy(std::string_view name, std::string_view text) {
  SB_ASSIGN_OR_RETURN(Json doc, ParseDocument(text));
  if (doc.is_null()) doc = Json::object();
  if (!doc.is_object()) return InvalidArgument("policy must be an object");

  Policy policy;
  policy.name = std::string(name);
  policy.raw = std::string(text);
  for (const auto& [key, v] : doc.items()) {
    if (key == "name") {
      // Some Vault versions allow it; the stored name is the one in the URL.
      if (!v.is_string()) return InvalidArgument("name must be a string");
      continue;
    }
    if (key != "path") return InvalidArgument("invalid key " + Quote(key));
    // {"path": {"a": {...}, "b": {...}}}, or the HCL-JSON list form
    // {"path": [{"a": {...}}, {"b": {...}}]}.
    auto add_paths = [&](const Json& obj) -> Status {
      if (!obj.is_object()) return InvalidArgument("path must be a map of path blocks");
      for (const auto& [p, body] : obj.items()) {
        if (body.is_array()) {
          // The same path written twice: each block is its own entry and the
          // ACL merges them, as Vault does.
          for (const auto& b : body) {
            SB_ASSIGN_OR_RETURN(PathRules r, ParsePathBody(p, b));
            policy.templated = policy.templated || r.templated;
            policy.paths.push_back(std::move(r));
          }
        } else {
          SB_ASSIGN_OR_RETURN(PathRules r, ParsePathBody(p, body));
          policy.templated = policy.templated || r.templated;
          policy.paths.push_back(std::move(r));
        }
      }
      return Status::Ok();
    };
    if (v.is_array()) {
      for (const auto& e : v) SB_RETURN_IF_ERROR(add_paths(e));
    } else {
      SB_RETURN_IF_ERROR(add_paths(v));
    }
  }
  return policy;
}

namespace {

constexpr size_t kMaxTemplateValue = 512;

// A value that, inserted in a path, stays one literal piece of one segment.
bool SafeTemplateValue(std::string_view v) {
  if (v.empty() || v.size() > kMaxTemplateValue || v == "." || v.find("..") != std::string_view::npos) return false;
  for (char ch : v) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return false;
    if (ch == '*' || ch == '+' || ch == '/' || ch == '\\' || ch == '{' || ch == '}') return false;
  }
  return true;
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The value of one selector ("identity.entity.aliases.<acc>.name"), or nullopt.
std::optional<std::string_view> Resolve(std::string_view sel, const IdentityContext& id) {
  constexpr std::string_view kEntity = "identity.entity.";
  if (!sel.starts_with(kEntity)) return std::nullopt;
  sel.remove_prefix(kEntity.size());
  if (sel == "id") {
    if (id.entity_id.empty()) return std::nullopt;
    return id.entity_id;
  }
  // Sealbox has no entities with names: identity.entity.name never resolves.
  constexpr std::string_view kAliases = "aliases.";
  if (!sel.starts_with(kAliases) || id.alias == nullptr) return std::nullopt;
  sel.remove_prefix(kAliases.size());
  // Vault: SplitN(rest, ".", 2): the accessor never contains a dot.
  size_t dot = sel.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::string_view accessor = sel.substr(0, dot), field = sel.substr(dot + 1);
  if (accessor.empty() || accessor != id.alias->mount_accessor) return std::nullopt;
  if (field == "name") return std::string_view(id.alias->name);
  constexpr std::string_view kMeta = "metadata.";
  if (field.starts_with(kMeta)) {
    auto it = id.alias->metadata.find(std::string(field.substr(kMeta.size())));
    if (it == id.alias->metadata.end()) return std::nullopt;
    return std::string_view(it->second);
  }
  return std::nullopt;  // "id" (Sealbox aliases have none) or unknown
}

}  // namespace

std::optional<std::string> RenderPolicyPath(std::string_view path, const IdentityContext& identity) {
  std::string out;
  out.reserve(path.size());
  size_t pos = 0;
  while (pos < path.size()) {
    size_t open = path.find("{{", pos);
    if (open == std::string_view::npos) {
      // A stray "}}" outside a template is a parse error in Vault too.
      if (path.find("}}", pos) != std::string_view::npos) return std::nullopt;
      out.append(path.substr(pos));
      break;
    }
    std::string_view literal = path.substr(pos, open - pos);
    if (literal.find("}}") != std::string_view::npos) return std::nullopt;
    out.append(literal);
    size_t close = path.find("}}", open + 2);
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view sel = path.substr(open + 2, close - open - 2);
    if (sel.find("{{") != std::string_view::npos) return std::nullopt;
    auto value = Resolve(TrimSpace(sel), identity);
    if (!value || !SafeTemplateValue(*value)) return std::nullopt;
    out.append(*value);
    pos = close + 2;
  }
  return out;
}

std::shared_ptr<const Policy> RenderPolicy(const std::shared_ptr<const Policy>& policy,
                                           const IdentityContext* identity) {
  if (!policy || !policy->templated) return policy;
  auto out = std::make_shared<Policy>();
  out->name = policy->name;
  out->paths.reserve(policy->paths.size());
  for (const auto& pr : policy->paths) {
    if (!pr.templated) {
      out->paths.push_back(pr);
      continue;
    }
    if (identity == nullptr) continue;
    auto rendered = RenderPolicyPath(pr.path, *identity);
    if (!rendered) continue;  // Vault: a path whose template cannot be resolved is skipped
    PathRules r = pr;
    r.path = std::move(*rendered);
    r.templated = false;
    out->paths.push_back(std::move(r));
  }
  return out;
}

std::string NormalizePolicyName(std::string_view name) {
  size_t b = 0, e = name.size();
  while (b < e && std::isspace(static_cast<unsigned char>(name[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(name[e - 1]))) --e;
  return ToLower(name.substr(b, e - b));
}

std::vector<std::string> CapabilityNames(uint32_t caps) {
  if ((caps & kCapDeny) || caps == 0) return {"deny"};
  // Already in sorted order.
  static constexpr std::pair<uint32_t, const char*> kNames[] = {
      {kCapCreate, "create"}, {kCapDelete, "delete"}, {kCapList, "list"}, {kCapPatch, "patch"},
      {kCapRead, "read"},     {kCapSudo, "sudo"},     {kCapUpdate, "update"},
  };
  std::vector<std::string> out;
  for (const auto& [bit, n] : kNames) {
    if (caps & bit) out.emplace_back(n);
  }
  return out;
}

// Vault's text verbatim (the leading newline included), less what needs what
// Sealbox has not: the identity-templated entity paths and sys/control-group.
const char* const kDefaultPolicyText = R"(
# Allow tokens to look up their own properties
path "auth/token/lookup-self" {
    capabilities = ["read"]
}

# Allow tokens to renew themselves
path "auth/token/renew-self" {
    capabilities = ["update"]
}

# Allow tokens to revoke themselves
path "auth/token/revoke-self" {
    capabilities = ["update"]
}

# Allow a token to look up its own capabilities on a path
path "sys/capabilities-self" {
    capabilities = ["update"]
}

# Allow a token to look up its resultant ACL from all policies. This is useful
# for UIs. It is an internal path because the format may change at any time
# based on how the internal ACL features and capabilities change.
path "sys/internal/ui/resultant-acl" {
    capabilities = ["read"]
}

# Allow a token to renew a lease via lease_id in the request body; old path for
# old clients, new path for newer
path "sys/renew" {
    capabilities = ["update"]
}
path "sys/leases/renew" {
    capabilities = ["update"]
}

# Allow looking up lease properties. This requires knowing the lease ID ahead
# of time and does not divulge any sensitive information.
path "sys/leases/lookup" {
    capabilities = ["update"]
}

# Allow a token to manage its own cubbyhole
path "cubbyhole/*" {
    capabilities = ["create", "read", "update", "delete", "list"]
}

# Allow a token to wrap arbitrary values in a response-wrapping token
path "sys/wrapping/wrap" {
    capabilities = ["update"]
}

# Allow a token to look up the creation time and TTL of a given
# response-wrapping token
path "sys/wrapping/lookup" {
    capabilities = ["update"]
}

# Allow a token to unwrap a response-wrapping token. This is a convenience to
# avoid client token swapping since this is also part of the response wrapping
# policy.
path "sys/wrapping/unwrap" {
    capabilities = ["update"]
}

# Allow general purpose tools
path "sys/tools/hash" {
    capabilities = ["update"]
}
path "sys/tools/hash/*" {
    capabilities = ["update"]
}

# Allow a token to make requests to the Authorization Endpoint for OIDC providers.
path "identity/oidc/provider/+/authorize" {
    capabilities = ["read", "update"]
}
)";

}  // namespace sealbox::auth
