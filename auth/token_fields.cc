#include "auth/token_fields.h"

#include <algorithm>

#include "auth/cidr.h"

namespace sealbox::auth {

using logical::FieldSpec;
using logical::FieldType;

namespace {

// Each deprecated name and the token_* field it stands for.
struct Alias {
  const char* old_name;
  const char* name;
  FieldType type;
};
constexpr Alias kAliases[] = {{"policies", "token_policies", FieldType::kStringList},
                              {"period", "token_period", FieldType::kDuration},
                              {"ttl", "token_ttl", FieldType::kDuration},
                              {"max_ttl", "token_max_ttl", FieldType::kDuration},
                              {"num_uses", "token_num_uses", FieldType::kInt},
                              {"bound_cidrs", "token_bound_cidrs", FieldType::kStringList},
                              {"explicit_max_ttl", "token_explicit_max_ttl", FieldType::kDuration}};

// The name a write supplied for token field `name`: the field itself, else
// an accepted deprecated alias; empty when neither.
std::string Supplied(const logical::FieldData& fd, const DeprecatedTokenFields& deprecated, const std::string& name) {
  if (fd.Has(name)) return name;
  for (const auto& a : kAliases) {
    if (name != a.name || !fd.Has(a.old_name)) continue;
    if (std::find(deprecated.begin(), deprecated.end(), a.old_name) != deprecated.end()) return a.old_name;
  }
  return "";
}

Status ParseTokenLists(const logical::FieldData& fd, const DeprecatedTokenFields& dep, TokenParams* p) {
  if (auto n = Supplied(fd, dep, "token_policies"); !n.empty()) {
    SB_ASSIGN_OR_RETURN(p->policies, fd.GetStringList(n));
  }
  if (auto n = Supplied(fd, dep, "token_bound_cidrs"); !n.empty()) {
    SB_ASSIGN_OR_RETURN(auto cidrs, fd.GetStringList(n));
    for (const auto& c : cidrs) {
      if (!CidrValid(c))
        return InvalidArgument("error parsing address \"" + c + "\": Unable to convert \"" + c +
                               "\" to an IPv4 or IPv6 address, or a UNIX Socket");
    }
    p->bound_cidrs = std::move(cidrs);
  }
  return Status::Ok();
}

Status ParseTokenNumbers(const logical::FieldData& fd, const DeprecatedTokenFields& dep, TokenParams* p) {
  struct Duration {
    const char* name;
    int64_t* out;
  };
  for (const Duration& d : {Duration{"token_ttl", &p->ttl}, Duration{"token_max_ttl", &p->max_ttl},
                            Duration{"token_explicit_max_ttl", &p->explicit_max_ttl},
                            Duration{"token_period", &p->period}}) {
    if (auto n = Supplied(fd, dep, d.name); !n.empty()) {
      SB_ASSIGN_OR_RETURN(*d.out, fd.GetDuration(n));
    }
  }
  if (auto n = Supplied(fd, dep, "token_num_uses"); !n.empty()) {
    SB_ASSIGN_OR_RETURN(p->num_uses, fd.GetInt(n));
  }
  if (fd.Has("token_no_default_policy")) {
    SB_ASSIGN_OR_RETURN(p->no_default_policy, fd.GetBool("token_no_default_policy"));
  }
  if (p->max_ttl < 0) return InvalidArgument("'token_max_ttl' cannot be negative");
  if (p->period < 0) return InvalidArgument("'token_period' cannot be negative");
  if (p->ttl < 0) return InvalidArgument("'token_ttl' cannot be negative");
  if (p->explicit_max_ttl < 0) return InvalidArgument("'token_explicit_max_ttl' cannot be negative");
  if (p->ttl > 0 && p->max_ttl > 0 && p->ttl > p->max_ttl)
    return InvalidArgument("'token_ttl' cannot be greater than 'token_max_ttl'");
  if (p->num_uses < 0) return InvalidArgument("'token_num_uses' cannot be negative");
  if (p->num_uses > INT32_MAX) return InvalidArgument("'token_num_uses' is out of range");
  return Status::Ok();
}

Status ParseTokenType(const logical::FieldData& fd, TokenParams* p, std::vector<std::string>* warnings) {
  if (!fd.Has("token_type")) return Status::Ok();
  SB_ASSIGN_OR_RETURN(std::string t, fd.GetString("token_type"));
  if (t == "default-service" || t == "default-batch") {
    std::string adjusted = t.substr(8);
    warnings->push_back(t + " has no useful meaning; adjusting to " + adjusted);
    t = adjusted;
  }
  if (t != "default" && t != "service" && t != "batch")
    return InvalidArgument("invalid 'token_type' value \"" + t + "\"");
  p->type = t;
  return Status::Ok();
}

}  // namespace

std::vector<FieldSpec> TokenFieldSpecs(const DeprecatedTokenFields& deprecated) {
  std::vector<FieldSpec> specs = {{"token_policies", FieldType::kStringList},
                                  {"token_bound_cidrs", FieldType::kStringList},
                                  {"token_ttl", FieldType::kDuration},
                                  {"token_max_ttl", FieldType::kDuration},
                                  {"token_explicit_max_ttl", FieldType::kDuration},
                                  {"token_period", FieldType::kDuration},
                                  {"token_num_uses", FieldType::kInt},
                                  {"token_no_default_policy", FieldType::kBool},
                                  {"token_type", FieldType::kString, "default"}};
  for (const auto& a : kAliases) {
    if (std::find(deprecated.begin(), deprecated.end(), a.old_name) != deprecated.end())
      specs.push_back({a.old_name, a.type});
  }
  return specs;
}

Status ParseTokenFields(const logical::FieldData& fd, const DeprecatedTokenFields& deprecated, TokenParams* p,
                        std::vector<std::string>* warnings) {
  SB_RETURN_IF_ERROR(ParseTokenLists(fd, deprecated, p));
  SB_RETURN_IF_ERROR(ParseTokenNumbers(fd, deprecated, p));
  SB_RETURN_IF_ERROR(ParseTokenType(fd, p, warnings));
  if (p->type == "batch" && p->period != 0)
    return InvalidArgument("'token_type' cannot be 'batch' or 'default_batch' when set to generate periodic tokens");
  if (p->type == "batch" && p->num_uses != 0)
    return InvalidArgument(
        "'token_type' cannot be 'batch' or 'default_batch' when set to generate tokens with limited use count");
  return Status::Ok();
}

Json TokenParamsToJson(const TokenParams& p) {
  Json j = Json::object();
  PopulateTokenData(p, &j);
  return j;
}

TokenParams TokenParamsFromJson(const Json& j) {
  using V = std::vector<std::string>;
  TokenParams p;
  if (!j.is_object()) return p;
  p.policies = j.value("token_policies", V{});
  p.bound_cidrs = j.value("token_bound_cidrs", V{});
  p.ttl = j.value("token_ttl", int64_t{0});
  p.max_ttl = j.value("token_max_ttl", int64_t{0});
  p.explicit_max_ttl = j.value("token_explicit_max_ttl", int64_t{0});
  p.period = j.value("token_period", int64_t{0});
  p.num_uses = j.value("token_num_uses", int64_t{0});
  p.no_default_policy = j.value("token_no_default_policy", false);
  p.type = j.value("token_type", std::string("default"));
  return p;
}

void PopulateTokenData(const TokenParams& p, Json* data) {
  (*data)["token_policies"] = p.policies;
  (*data)["token_bound_cidrs"] = p.bound_cidrs;
  (*data)["token_ttl"] = p.ttl;
  (*data)["token_max_ttl"] = p.max_ttl;
  (*data)["token_explicit_max_ttl"] = p.explicit_max_ttl;
  (*data)["token_period"] = p.period;
  (*data)["token_num_uses"] = p.num_uses;
  (*data)["token_no_default_policy"] = p.no_default_policy;
  (*data)["token_type"] = p.type;
}

void PopulateTokenAuth(const TokenParams& p, logical::Auth* a) {
  a->policies = p.policies;
  a->bound_cidrs = p.bound_cidrs;
  a->ttl = p.ttl;
  a->max_ttl = p.max_ttl;
  a->explicit_max_ttl = p.explicit_max_ttl;
  a->period = p.period;
  a->num_uses = static_cast<int>(p.num_uses);
  a->no_default_policy = p.no_default_policy;
  a->renewable = true;
}

logical::Response RenewalResponse(const TokenParams& p) {
  logical::Response r;
  r.auth = logical::Auth{};
  r.auth->ttl = p.ttl;
  r.auth->max_ttl = p.max_ttl;
  r.auth->period = p.period;
  return r;
}

}  // namespace sealbox::auth
