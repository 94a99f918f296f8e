#include "auth/approle/secret_id.h"

#include "auth/cidr.h"
#include "base/clock.h"
#include "base/crypto.h"

namespace sealbox::auth::approle {

namespace {

constexpr const char* kZeroTime = "0001-01-01T00:00:00Z";  // Go's zero time.Time

std::string CidrListText(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? " \"" : "\"") + v[i] + "\"";
  return out + "]";
}

// "k1=v1,k2=v2" into `out`.
Status ParsePairs(const std::string& raw, Json* out) {
  size_t start = 0;
  while (start <= raw.size()) {
    size_t comma = raw.find(',', start);
    std::string item = raw.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      return InvalidArgument("failed to parse metadata: invalid key/value pair \"" + item + "\"");
    (*out)[item.substr(0, eq)] = item.substr(eq + 1);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> KeyedHash(std::string_view key, std::string_view value) {
  if (key.empty()) return Internal("invalid HMAC key");
  if (value.size() > kMaxHmacInput)
    return InvalidArgument("value is longer than maximum of " + std::to_string(kMaxHmacInput) + " bytes");
  return crypto::HexEncode(crypto::HmacSha256(key, value));
}

bool HashesEqual(std::string_view a, std::string_view b) { return crypto::ConstantTimeEquals(a, b); }

Json SecretIdToJson(const SecretIdEntry& e) {
  return Json{{"secret_id_hmac", e.hmac},
              {"secret_id_accessor", e.accessor},
              {"secret_id_num_uses", e.num_uses},
              {"secret_id_ttl", e.ttl},
              {"creation_time", e.creation_nanos},
              {"expiration_time", e.expiration_nanos},
              {"last_updated_time", e.last_updated_nanos},
              {"metadata", e.metadata},
              {"cidr_list", e.cidr_list},
              {"token_bound_cidrs", e.token_bound_cidrs}};
}

Result<SecretIdEntry> SecretIdFromJson(const Json& j) {
  using V = std::vector<std::string>;
  if (!j.is_object() || !j.contains("secret_id_hmac")) return Corruption("approle secret-id entry malformed");
  SecretIdEntry e;
  e.hmac = j.value("secret_id_hmac", "");
  e.accessor = j.value("secret_id_accessor", "");
  e.num_uses = j.value("secret_id_num_uses", int64_t{0});
  e.ttl = j.value("secret_id_ttl", int64_t{0});
  e.creation_nanos = j.value("creation_time", int64_t{0});
  e.expiration_nanos = j.value("expiration_time", int64_t{0});
  e.last_updated_nanos = j.value("last_updated_time", int64_t{0});
  e.metadata = j.value("metadata", Json::object());
  e.cidr_list = j.value("cidr_list", V{});
  e.token_bound_cidrs = j.value("token_bound_cidrs", V{});
  return e;
}

bool SecretIdExpired(const SecretIdEntry& e, int64_t now_nanos) {
  return e.expiration_nanos != 0 && now_nanos >= e.expiration_nanos;
}

Json SecretIdLookupData(const SecretIdEntry& e) {
  return Json{{"secret_id_accessor", e.accessor},
              {"secret_id_num_uses", e.num_uses},
              {"secret_id_ttl", e.ttl},
              {"creation_time", FormatRfc3339Nano(e.creation_nanos)},
              {"expiration_time", e.expiration_nanos ? FormatRfc3339Nano(e.expiration_nanos) : kZeroTime},
              {"last_updated_time", FormatRfc3339Nano(e.last_updated_nanos)},
              {"metadata", e.metadata},
              {"cidr_list", e.cidr_list},
              {"token_bound_cidrs", e.token_bound_cidrs}};
}

Result<Json> ParseSecretIdMetadata(const std::string& raw_in) {
  Json out = Json::object();
  std::string raw = raw_in;
  if (raw.find_first_not_of(" \t\r\n") == std::string::npos) return out;
  if (auto decoded = crypto::Base64Decode(raw); decoded.ok()) {
    std::string text(decoded->begin(), decoded->end());
    if (Json::parse(text, nullptr, false).is_object()) raw = text;
  }
  Json parsed = Json::parse(raw, nullptr, false);
  if (parsed.is_discarded()) {
    SB_RETURN_IF_ERROR(ParsePairs(raw, &out));
    return out;
  }
  if (!parsed.is_object()) return InvalidArgument("failed to parse metadata: not a JSON object");
  for (const auto& [k, v] : parsed.items()) {
    if (!v.is_string()) return InvalidArgument("failed to parse metadata: value of \"" + k + "\" is not a string");
    out[k] = v;
  }
  return out;
}

Result<SecretIdLimits> ResolveSecretIdLimits(const Role& role, bool has_num_uses, int64_t num_uses, bool has_ttl,
                                             int64_t ttl) {
  SecretIdLimits l{role.secret_id_num_uses, role.secret_id_ttl};
  if (has_num_uses) {
    if (num_uses < 0) return InvalidArgument("num_uses cannot be negative");
    if (role.secret_id_num_uses > 0 && (num_uses == 0 || num_uses > role.secret_id_num_uses))
      return InvalidArgument("num_uses cannot be higher than the role's secret_id_num_uses");
    if (num_uses > INT32_MAX) return InvalidArgument("num_uses is out of range");
    l.num_uses = num_uses;
  }
  if (has_ttl) {
    if (ttl < 0) return InvalidArgument("ttl cannot be negative");
    if (role.secret_id_ttl > 0 && (ttl == 0 || ttl > role.secret_id_ttl))
      return InvalidArgument("ttl cannot be longer than the role's secret_id_ttl");
    l.ttl = ttl;
  }
  return l;
}

Status CheckSecretIdCidrs(const Role& role, const std::vector<std::string>& cidr_list,
                          const std::vector<std::string>& token_bound_cidrs) {
  for (const auto& c : cidr_list) {
    if (!CidrValid(c)) return InvalidArgument("failed to validate CIDR blocks: invalid CIDR address: " + c);
  }
  for (const auto& c : token_bound_cidrs) {
    if (!CidrValid(c)) return InvalidArgument("failed to validate token CIDR blocks: invalid CIDR address: " + c);
  }
  auto within = [](const std::vector<std::string>& outer, const std::vector<std::string>& inner) -> Status {
    if (inner.empty() || CidrsWithin(outer, inner)) return Status::Ok();
    return InvalidArgument("failed to verify subset relationship between CIDR blocks on the role " +
                           CidrListText(outer) + " and CIDR blocks on the secret ID " + CidrListText(inner));
  };
  SB_RETURN_IF_ERROR(within(role.secret_id_bound_cidrs, cidr_list));
  return within(role.token.bound_cidrs, token_bound_cidrs);
}

}  // namespace sealbox::auth::approle
