// sys/policy (legacy, injected), sys/policies/acl (modern, not injected) and
// sys/capabilities* (injected): contract §3.4 and §3.5.
//
// Policy names are normalised (trim + lowercase) before any use, so "Root" or
// " root" can only ever name the reserved root policy, which cannot be
// written; a name that changed earns Vault's warning.
#include <algorithm>

#include "auth/policy.h"
#include "base/crypto.h"
#include "core/core_impl.h"
#include "core/system_backend.h"
#include "core/system_backend_names.h"

namespace sealbox::core {

namespace {

enum class Api { kLegacy, kModern };
enum class CapsMode { kToken, kSelf, kAccessor };

// The policy text is first tried as base64 (Go's strict StdEncoding, which
// skips CR and LF); if it decodes, the decoded text is the policy.
std::string MaybeBase64(const std::string& text) {
  std::string compact;
  compact.reserve(text.size());
  for (char c : text) {
    if (c == '\r' || c == '\n') continue;
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
              c == '=';
    if (!ok) return text;
    compact.push_back(c);
  }
  if (compact.empty() || compact.size() % 4 != 0) return text;
  auto decoded = crypto::Base64Decode(compact);
  if (!decoded.ok()) return text;
  return std::string(decoded->view());
}

// Stored names in Vault's order: sorted, with the implicit "root" last.
Result<std::vector<std::string>> PolicyNames(auth::PolicyStore& store) {
  SB_ASSIGN_OR_RETURN(auto names, store.List());
  names.erase(std::remove(names.begin(), names.end(), "root"), names.end());
  names.push_back("root");
  return names;
}

// The token whose capabilities are asked for: the caller's (-self), the one
// in `token` (never the caller's), or the one behind `accessor`. Vault's
// "no token found" is a 500; Sealbox answers deterministic refusals with 400.
Result<auth::TokenEntry> CapsSubject(auth::TokenStore& tokens, CapsMode mode, const Request& req, FieldData& fd) {
  if (mode == CapsMode::kAccessor) {
    SB_ASSIGN_OR_RETURN(std::string accessor, fd.GetString("accessor"));
    if (accessor.empty()) return InvalidArgument("missing accessor");
    SB_ASSIGN_OR_RETURN(auto entry, tokens.LookupByAccessor(accessor, /*include_pending=*/true));
    if (!entry) return InvalidArgument("invalid accessor");
    return std::move(*entry);
  }
  std::string token = req.client_token;
  if (mode == CapsMode::kToken) {
    SB_ASSIGN_OR_RETURN(token, fd.GetString("token"));
  }
  if (token.empty()) return InvalidArgument("no token found");
  SB_ASSIGN_OR_RETURN(auto entry, tokens.Lookup(token, /*include_pending=*/true));
  if (!entry) return mode == CapsMode::kSelf ? PermissionDenied() : InvalidArgument("invalid token");
  return std::move(*entry);
}

}  // namespace

std::vector<PathSpec> SystemBackend::PolicyRoutes() {
  auto list = [this](Api api) {
    return [this, api](Request&, FieldData&) -> Result<Response> {
      SB_ASSIGN_OR_RETURN(auto names, PolicyNames(core_->policies()));
      Json data = {{"keys", names}};
      if (api == Api::kLegacy) data["policies"] = names;
      Response r = Response::WithData(std::move(data));
      r.inject_top_level = api == Api::kLegacy;
      return r;
    };
  };
  auto read = [this](Api api) {
    return [this, api](Request&, FieldData& fd) -> Result<Response> {
      SB_ASSIGN_OR_RETURN(std::string raw_name, fd.GetString("name"));
      std::string name = auth::NormalizePolicyName(raw_name);
      if (name.empty()) return Response::Empty();
      SB_ASSIGN_OR_RETURN(auto policy, core_->policies().Get(name));
      if (!policy) return Response::Empty();  // 404 {"errors":[]}
      Response r = Response::WithData(
          Json{{"name", policy->name.empty() ? name : policy->name}, {api == Api::kLegacy ? "rules" : "policy", policy->raw}});
      r.inject_top_level = api == Api::kLegacy;
      return r;
    };
  };
  auto write = [this](Api api) {
    return [this, api](Request&, FieldData& fd) -> Result<Response> {
      SB_ASSIGN_OR_RETURN(std::string raw_name, fd.GetString("name"));
      std::string name = auth::NormalizePolicyName(raw_name);
      if (name.empty()) return InvalidArgument("policy name must be provided in the URL");
      Response r;
      SB_ASSIGN_OR_RETURN(std::string text, fd.GetString("policy"));
      if (text.empty() && api == Api::kLegacy) {
        SB_ASSIGN_OR_RETURN(text, fd.GetString("rules"));
        if (!text.empty()) r.warnings.push_back("'rules' is deprecated, please use 'policy' instead");
      }
      if (text.empty()) return InvalidArgument("'policy' parameter not supplied or empty");
      text = MaybeBase64(text);
      SB_RETURN_IF_ERROR(core_->policies().Put(name, text));
      if (name != raw_name) r.warnings.push_back("policy name was converted to " + name);
      r.inject_top_level = api == Api::kLegacy;
      return r;
    };
  };
  auto remove = [this](Request&, FieldData& fd) -> Result<Response> {
    SB_ASSIGN_OR_RETURN(std::string raw_name, fd.GetString("name"));
    std::string name = auth::NormalizePolicyName(raw_name);
    if (name.empty()) return InvalidArgument("policy name must be provided in the URL");
    SB_RETURN_IF_ERROR(core_->policies().Delete(name));
    return Response::Empty();
  };
  auto capabilities = [this](CapsMode mode) {
    return [this, mode](Request& req, FieldData& fd) -> Result<Response> {
      SB_ASSIGN_OR_RETURN(auth::TokenEntry entry, CapsSubject(core_->tokens(), mode, req, fd));
      SB_ASSIGN_OR_RETURN(auto paths, fd.GetStringList("paths"));
      if (paths.empty()) {
        SB_ASSIGN_OR_RETURN(paths, fd.GetStringList("path"));
      }
      if (paths.empty()) return InvalidArgument("paths must be supplied");
      SB_ASSIGN_OR_RETURN(auto acl, core_->AclForToken(entry));
      Json data = Json::object();
      for (const auto& p : paths) {
        data[p] = entry.policies.empty() ? std::vector<std::string>{"deny"} : acl->Capabilities(p);
      }
      // Backwards compatibility: a single path also answers in "capabilities".
      if (paths.size() == 1) data["capabilities"] = data[paths[0]];
      Response r = Response::WithData(std::move(data));
      r.inject_top_level = true;
      return r;
    };
  };

  const std::vector<FieldSpec> modern_fields = {{"name", FieldType::kString}, {"policy", FieldType::kString}};
  const std::vector<FieldSpec> legacy_fields = {
      {"name", FieldType::kString}, {"policy", FieldType::kString}, {"rules", FieldType::kString}};
  const std::vector<FieldSpec> caps_fields = {{"token", FieldType::kString},
                                              {"accessor", FieldType::kString},
                                              {"path", FieldType::kStringList},
                                              {"paths", FieldType::kStringList}};

  // Reading policies and asking for capabilities only read: a standby answers them (HA).
  const std::vector<Operation> reads = {Operation::kRead, Operation::kList};
  const std::vector<Operation> asks = {Operation::kUpdate};
  std::vector<PathSpec> r;
  r.push_back({.pattern = "policies/acl/", .ops = {{Operation::kList, list(Api::kModern)}}, .standby_ops = reads});
  r.push_back({.pattern = "policies/acl", .ops = {{Operation::kList, list(Api::kModern)}}, .standby_ops = reads});
  r.push_back({.pattern = "policies/acl/{name}",
               .fields = modern_fields,
               .ops = {{Operation::kRead, read(Api::kModern)},
                       {Operation::kUpdate, write(Api::kModern)},
                       {Operation::kDelete, remove}},
               .standby_ops = reads});
  r.push_back({.pattern = "policy",
               .ops = {{Operation::kRead, list(Api::kLegacy)}, {Operation::kList, list(Api::kLegacy)}},
               .standby_ops = reads});
  r.push_back({.pattern = "policy/", .ops = {{Operation::kList, list(Api::kLegacy)}}, .standby_ops = reads});
  r.push_back({.pattern = "policy/{name}",
               .fields = legacy_fields,
               .ops = {{Operation::kRead, read(Api::kLegacy)},
                       {Operation::kUpdate, write(Api::kLegacy)},
                       {Operation::kDelete, remove}},
               .standby_ops = reads});
  r.push_back({.pattern = "capabilities",
               .fields = caps_fields,
               .ops = {{Operation::kUpdate, capabilities(CapsMode::kToken)}},
               .standby_ops = asks});
  r.push_back({.pattern = "capabilities-self",
               .fields = caps_fields,
               .ops = {{Operation::kUpdate, capabilities(CapsMode::kSelf)}},
               .standby_ops = asks});
  r.push_back({.pattern = "capabilities-accessor",
               .fields = caps_fields,
               .ops = {{Operation::kUpdate, capabilities(CapsMode::kAccessor)}},
               .standby_ops = asks});
  return r;
}

}  // namespace sealbox::core
