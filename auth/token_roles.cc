// auth/token/roles/*: token roles, read and written as Vault does (its
// deprecated field names accepted and echoed).
#include <algorithm>
#include <cctype>
#include <regex>

#include "auth/policy.h"
#include "auth/token_backend.h"
#include "auth/token_policies.h"

namespace sealbox::auth {

using logical::FieldSpec;
using logical::FieldType;

namespace {

// strutil.RemoveDuplicates(items, lowercase=true).
std::vector<std::string> RemoveDuplicatesLower(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const auto& s : in) {
    std::string n = NormalizePolicyName(s);
    if (!n.empty()) out.push_back(std::move(n));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// pathSuffixSanitize = \w[\w-.]+\w, unanchored as Vault uses it (MatchString).
bool PathSuffixMatches(const std::string& s) {
  static const std::regex kRe(R"(\w[\w\-.]+\w)");
  return std::regex_search(s, kRe);
}

// orphan, renewable, path_suffix and the policy lists: set on create, kept
// on update unless given.
Status ReadRoleBasics(const logical::FieldData& fd, bool create, TokenRole& r) {
  if (fd.Has("orphan") || create) {
    SB_ASSIGN_OR_RETURN(r.orphan, fd.GetBool("orphan"));
  }
  if (fd.Has("renewable") || create) {
    SB_ASSIGN_OR_RETURN(r.renewable, fd.GetBool("renewable"));
  }
  if (fd.Has("path_suffix") || create) {
    SB_ASSIGN_OR_RETURN(std::string suffix, fd.GetString("path_suffix"));
    if (!suffix.empty() && !PathSuffixMatches(suffix))
      return InvalidArgument("given role path suffix contains invalid characters; must match \\w[\\w-.]+\\w");
    r.path_suffix = suffix;
  }
  if (r.path_suffix.find("..") != std::string::npos)
    return InvalidArgument("error registering path suffix: path cannot contain parent references");
  auto list_field = [&](const char* n, std::vector<std::string>* out, bool sanitize) -> Status {
    if (!fd.Has(n) && !create) return Status::Ok();
    SB_ASSIGN_OR_RETURN(auto v, fd.GetStringList(n));
    *out = sanitize ? SanitizePolicies(v, false) : RemoveDuplicatesLower(v);
    return Status::Ok();
  };
  SB_RETURN_IF_ERROR(list_field("allowed_policies", &r.allowed_policies, true));
  SB_RETURN_IF_ERROR(list_field("disallowed_policies", &r.disallowed_policies, false));
  SB_RETURN_IF_ERROR(list_field("allowed_policies_glob", &r.allowed_policies_glob, true));
  return list_field("disallowed_policies_glob", &r.disallowed_policies_glob, false);
}

Status ReadRoleTokenType(const logical::FieldData& fd, TokenRole& r) {
  if (fd.Has("token_type")) {
    const Json& v = fd.Get("token_type");
    if (v.is_null()) return InvalidArgument("Invalid 'token_type' value: null");
    SB_ASSIGN_OR_RETURN(std::string t, fd.GetString("token_type"));
    if (t != "service" && t != "batch" && t != "default-service" && t != "default-batch")
      return InvalidArgument("invalid 'token_type' value \"" + t + "\"");
    r.token_type = t;
  } else if (r.token_type.empty() || r.token_type == "default") {
    r.token_type = "default-service";
  }
  return Status::Ok();
}

// The token_* fields; their names win over the deprecated ones, which are
// echoed on read.
Status ReadRoleTokenFields(const logical::FieldData& fd, TokenRole& r, std::vector<std::string>* warnings) {
  if (fd.Has("token_period")) {
    SB_ASSIGN_OR_RETURN(r.token_period, fd.GetDuration("token_period"));
    if (fd.Has("period"))
      warnings->push_back("Both 'token_period' and deprecated 'period' value supplied, ignoring the deprecated value");
    r.period = 0;
  } else if (fd.Has("period")) {
    SB_ASSIGN_OR_RETURN(r.period, fd.GetDuration("period"));
    r.token_period = r.period;
  }
  if (fd.Has("token_bound_cidrs")) {
    SB_ASSIGN_OR_RETURN(r.token_bound_cidrs, fd.GetStringList("token_bound_cidrs"));
    if (fd.Has("bound_cidrs"))
      warnings->push_back(
          "Both 'token_bound_cidrs' and deprecated 'bound_cidrs' value supplied, ignoring the deprecated value");
  } else if (fd.Has("bound_cidrs")) {
    SB_ASSIGN_OR_RETURN(r.token_bound_cidrs, fd.GetStringList("bound_cidrs"));
  }
  if (fd.Has("token_explicit_max_ttl")) {
    SB_ASSIGN_OR_RETURN(r.token_explicit_max_ttl, fd.GetDuration("token_explicit_max_ttl"));
    if (fd.Has("explicit_max_ttl"))
      warnings->push_back(
          "Both 'token_explicit_max_ttl' and deprecated 'explicit_max_ttl' value supplied, ignoring the deprecated "
          "value");
    r.explicit_max_ttl = 0;
  } else if (fd.Has("explicit_max_ttl")) {
    SB_ASSIGN_OR_RETURN(r.explicit_max_ttl, fd.GetDuration("explicit_max_ttl"));
    r.token_explicit_max_ttl = r.explicit_max_ttl;
  }
  if (r.token_period < 0 || r.token_explicit_max_ttl < 0)
    return InvalidArgument("error parsing role fields: durations must not be negative");
  return Status::Ok();
}

Status ReadRoleUseFields(const logical::FieldData& fd, TokenRole& r) {
  if (fd.Has("token_num_uses")) {
    SB_ASSIGN_OR_RETURN(int64_t n, fd.GetInt("token_num_uses"));
    if (n < 0) return InvalidArgument("error parsing role fields: token_num_uses cannot be negative");
    if (n > INT32_MAX) return InvalidArgument("error parsing role fields: token_num_uses is out of range");
    r.token_num_uses = static_cast<int>(n);
  }
  if (fd.Has("token_no_default_policy")) {
    SB_ASSIGN_OR_RETURN(r.token_no_default_policy, fd.GetBool("token_no_default_policy"));
  }
  return Status::Ok();
}

// A batch role makes orphan, non-periodic, non-renewable tokens without an
// explicit max TTL.
Status CheckBatchRole(const TokenRole& r) {
  if (r.token_type != "batch") return Status::Ok();
  if (!r.orphan)
    return InvalidArgument("'token_type' cannot be 'batch' when role is set to generate non-orphan tokens");
  if (r.period != 0 || r.token_period != 0)
    return InvalidArgument("'token_type' cannot be 'batch' when role is set to generate periodic tokens");
  if (r.renewable)
    return InvalidArgument("'token_type' cannot be 'batch' when role is set to generate renewable tokens");
  if (r.explicit_max_ttl != 0 || r.token_explicit_max_ttl != 0)
    return InvalidArgument(
        "'token_type' cannot be 'batch' when role is set to generate tokens with an explicit max TTL");
  return Status::Ok();
}

}  // namespace

// Vault's framework.GenericNameRegex: \w(([\w-.]+)?\w)?
bool TokenBackend::ValidRoleName(std::string_view n) {
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (n.empty() || !word(n.front()) || !word(n.back())) return false;
  return std::all_of(n.begin(), n.end(), [&](char c) { return word(c) || c == '-' || c == '.'; });
}

const std::vector<FieldSpec>& TokenBackend::RoleFields() {
  static const std::vector<FieldSpec> kFields = {
      {"role_name", FieldType::kString},
      {"allowed_policies", FieldType::kStringList},
      {"disallowed_policies", FieldType::kStringList},
      {"allowed_policies_glob", FieldType::kStringList},
      {"disallowed_policies_glob", FieldType::kStringList},
      {"orphan", FieldType::kBool},
      {"period", FieldType::kDuration},
      {"path_suffix", FieldType::kString},
      {"explicit_max_ttl", FieldType::kDuration},
      {"renewable", FieldType::kBool, true},
      {"bound_cidrs", FieldType::kStringList},
      {"allowed_entity_aliases", FieldType::kStringList},
      {"token_bound_cidrs", FieldType::kStringList},
      {"token_explicit_max_ttl", FieldType::kDuration},
      {"token_period", FieldType::kDuration},
      {"token_type", FieldType::kString},
      {"token_no_default_policy", FieldType::kBool},
      {"token_num_uses", FieldType::kInt}};
  return kFields;
}

Result<logical::Response> TokenBackend::ListRoles(Req&, Fd&) {
  SB_ASSIGN_OR_RETURN(auto keys, tokens_->ListRoles());
  return Resp::WithData(Json{{"keys", std::move(keys)}});
}

Result<bool> TokenBackend::RoleExists(Req&, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fd.GetString("role_name"));
  if (!ValidRoleName(name)) return false;
  SB_ASSIGN_OR_RETURN(auto role, tokens_->GetRole(name));
  return role.has_value();
}

Result<logical::Response> TokenBackend::ReadRole(Req&, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fd.GetString("role_name"));
  if (!ValidRoleName(name)) return Resp::Empty();
  SB_ASSIGN_OR_RETURN(auto role, tokens_->GetRole(name));
  if (!role) return Resp::Empty();
  const TokenRole& r = *role;
  Json d = {{"period", r.period},
            {"token_period", r.token_period},
            {"explicit_max_ttl", r.explicit_max_ttl},
            {"token_explicit_max_ttl", r.token_explicit_max_ttl},
            {"disallowed_policies", r.disallowed_policies},
            {"allowed_policies", r.allowed_policies},
            {"disallowed_policies_glob", r.disallowed_policies_glob},
            {"allowed_policies_glob", r.allowed_policies_glob},
            {"name", r.name},
            {"orphan", r.orphan},
            {"path_suffix", r.path_suffix},
            {"renewable", r.renewable},
            {"token_type", r.token_type},
            {"allowed_entity_aliases", r.has_allowed_entity_aliases ? Json(r.allowed_entity_aliases) : Json(nullptr)},
            {"token_no_default_policy", r.token_no_default_policy}};
  if (!r.token_bound_cidrs.empty()) d["token_bound_cidrs"] = r.token_bound_cidrs;
  if (r.token_num_uses > 0) d["token_num_uses"] = r.token_num_uses;
  return Resp::WithData(std::move(d));
}

Result<logical::Response> TokenBackend::WriteRole(Req& req, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fd.GetString("role_name"));
  if (!ValidRoleName(name)) return NotFound("unsupported path");
  SB_ASSIGN_OR_RETURN(auto existing, tokens_->GetRole(name));
  TokenRole r;
  if (existing) r = *existing;
  r.name = name;
  Resp resp;
  SB_RETURN_IF_ERROR(ReadRoleBasics(fd, !existing, r));
  SB_RETURN_IF_ERROR(ReadRoleTokenType(fd, r));
  SB_RETURN_IF_ERROR(ReadRoleTokenFields(fd, r, &resp.warnings));
  const int64_t sys_max = SystemTtls().max_ttl;
  if (r.token_explicit_max_ttl != 0 && sys_max != 0 && r.token_explicit_max_ttl > sys_max)
    resp.warnings.push_back("Given explicit max TTL of " + std::to_string(r.token_explicit_max_ttl) +
                            " is greater than system/mount allowed value of " + std::to_string(sys_max) +
                            " seconds; until this is fixed attempting to create tokens against this role will "
                            "result in an error");
  SB_RETURN_IF_ERROR(ReadRoleUseFields(fd, r));
  SB_RETURN_IF_ERROR(CheckBatchRole(r));
  if (fd.Has("allowed_entity_aliases")) {
    SB_ASSIGN_OR_RETURN(auto v, fd.GetStringList("allowed_entity_aliases"));
    r.allowed_entity_aliases = RemoveDuplicatesLower(v);
    r.has_allowed_entity_aliases = true;
  }
  SB_RETURN_IF_ERROR(tokens_->PutRole(r));
  return resp;
}

Result<logical::Response> TokenBackend::DeleteRole(Req&, Fd& fd) {
  SB_ASSIGN_OR_RETURN(std::string name, fd.GetString("role_name"));
  if (ValidRoleName(name)) SB_RETURN_IF_ERROR(tokens_->DeleteRole(name));
  return Resp::Empty();
}

// Vault tidies in the background and answers 202 at once; Sealbox's tidy is

}  // namespace sealbox::auth
