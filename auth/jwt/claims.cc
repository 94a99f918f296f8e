#include "auth/jwt/claims.h"

#include <algorithm>
#include <cmath>
#include <optional>

namespace sealbox::auth::jwt {
namespace {

// RFC 6901: "~1" is '/', "~0" is '~'.
std::string UnescapePointerToken(const std::string& t) {
  std::string out;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '~' && i + 1 < t.size() && (t[i + 1] == '0' || t[i + 1] == '1')) {
      out += t[i + 1] == '0' ? '~' : '/';
      ++i;
    } else {
      out += t[i];
    }
  }
  return out;
}

Json Pointer(const Json& claims, const std::string& pointer) {
  const Json* cur = &claims;
  size_t pos = 1;
  while (pos <= pointer.size()) {
    size_t next = pointer.find('/', pos);
    if (next == std::string::npos) next = pointer.size();
    const std::string token = UnescapePointerToken(pointer.substr(pos, next - pos));
    if (cur->is_object()) {
      auto it = cur->find(token);
      if (it == cur->end()) return nullptr;
      cur = &*it;
    } else if (cur->is_array()) {
      const bool digits = std::all_of(token.begin(), token.end(), [](unsigned char c) { return c >= '0' && c <= '9'; });
      if (token.empty() || !digits || token.size() > 6) return nullptr;
      size_t i = std::stoul(token);
      if (i >= cur->size()) return nullptr;
      cur = &(*cur)[i];
    } else {
      return nullptr;
    }
    pos = next + 1;
  }
  return *cur;
}

// A claim or bound value as a list of scalars (string, bool, integer);
// nullopt for anything else (Vault's normalizeList).
std::optional<std::vector<Json>> NormalizeList(const Json& v) {
  auto scalar = [](const Json& e) { return e.is_string() || e.is_boolean() || e.is_number(); };
  if (v.is_array()) return std::vector<Json>(v.begin(), v.end());
  if (scalar(v)) return std::vector<Json>{v};
  return std::nullopt;
}

// A JSON number's integer part, held within ±1e15 (past any real time or
// count) so the conversion is defined for any input.
int64_t IntegerPart(const Json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  const double d = std::trunc(v.get<double>());
  return static_cast<int64_t>(std::clamp(d, -1e15, 1e15));
}

// Numbers compare as Go's json.Number of the integer part, as Vault does.
Json Comparable(const Json& v) {
  if (v.is_number_float()) return IntegerPart(v);
  return v;
}

std::optional<int64_t> TimeClaim(const Json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end() || !it->is_number()) return std::nullopt;
  return std::clamp<int64_t>(IntegerPart(*it), -1'000'000'000'000'000, 1'000'000'000'000'000);
}

int64_t Leeway(int64_t configured, int64_t default_seconds) {
  if (configured < 0) return 0;
  return configured == 0 ? default_seconds : configured;
}

std::vector<std::string> Audiences(const Json& claims) {
  std::vector<std::string> out;
  auto it = claims.find("aud");
  if (it == claims.end()) return out;
  if (it->is_string()) out.push_back(it->get<std::string>());
  if (it->is_array())
    for (const auto& e : *it)
      if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

std::string StringClaim(const Json& claims, const char* name) {
  auto it = claims.find(name);
  return it != claims.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Json GetClaim(const Json& claims, const std::string& name) {
  if (!claims.is_object()) return nullptr;
  Json v = nullptr;
  if (!name.empty() && name[0] == '/') {
    v = Pointer(claims, name);
  } else if (auto it = claims.find(name); it != claims.end()) {
    v = *it;
  }
  if (name == "aud" && v.is_string()) return Json::array({v});
  return Comparable(v);
}

bool GlobMatch(const std::string& pattern, const std::string& value) {
  if (pattern.empty()) return value.empty();
  if (pattern == "*") return true;
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t star; (star = pattern.find('*', start)) != std::string::npos; start = star + 1)
    parts.push_back(pattern.substr(start, star - start));
  parts.push_back(pattern.substr(start));
  if (parts.size() == 1) return pattern == value;
  const bool leading = pattern.front() == '*', trailing = pattern.back() == '*';
  std::string_view rest = value;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    size_t idx = rest.find(parts[i]);
    if (i == 0 && !leading && idx != 0) return false;
    if (idx == std::string_view::npos) return false;
    rest.remove_prefix(idx + parts[i].size());
  }
  return trailing || rest.ends_with(parts.back());
}

Status ValidateBoundClaims(const Json& bound_claims, bool glob, const Json& claims) {
  if (!bound_claims.is_object()) return Status::Ok();
  for (const auto& [claim, expected] : bound_claims.items()) {
    const Json actual = GetClaim(claims, claim);
    if (actual.is_null()) return InvalidArgument("claim \"" + claim + "\" is missing");
    auto actual_values = NormalizeList(actual);
    if (!actual_values) return InvalidArgument("received claim is not a string, bool, int or list");
    auto expected_values = NormalizeList(expected);
    if (!expected_values) return InvalidArgument("bound claim is not a string, bool, int or list");
    bool found = false;
    for (const Json& want : *expected_values) {
      for (const Json& got : *actual_values) {
        if (glob) {
          if (!want.is_string()) return InvalidArgument("received claim is not a glob string");
          found = found || (got.is_string() && GlobMatch(want.get<std::string>(), got.get<std::string>()));
        } else {
          found = found || Comparable(want) == Comparable(got);
        }
      }
    }
    if (!found) return InvalidArgument("claim \"" + claim + "\" does not match any associated bound claim values");
  }
  return Status::Ok();
}

Result<Json> ExtractMetadata(const Json& claims, const Json& claim_mappings) {
  Json out = Json::object();
  if (!claim_mappings.is_object()) return out;
  for (const auto& [source, target] : claim_mappings.items()) {
    const Json v = GetClaim(claims, source);
    if (v.is_null()) continue;
    if (!v.is_string()) return InvalidArgument("error converting claim '" + source + "' to string");
    out[target.get<std::string>()] = v;
  }
  return out;
}

Result<std::vector<std::string>> GroupNames(const Json& claims, const std::string& groups_claim) {
  const Json raw = GetClaim(claims, groups_claim);
  if (raw.is_null())
    return InvalidArgument("failed to fetch groups: \"" + groups_claim + "\" claim not found in token");
  auto list = NormalizeList(raw);
  if (!list) return InvalidArgument("\"" + groups_claim + "\" claim could not be converted to string list");
  std::vector<std::string> out;
  for (const Json& g : *list) {
    if (!g.is_string()) return InvalidArgument("value in groups claim could not be parsed as string");
    if (!g.get<std::string>().empty()) out.push_back(g.get<std::string>());
  }
  return out;
}

Status ValidateRegisteredClaims(const Json& claims, const Expected& want, int64_t now) {
  if (!want.issuer.empty() && StringClaim(claims, "iss") != want.issuer)
    return InvalidArgument("invalid issuer (iss) claim");
  if (!want.subject.empty() && StringClaim(claims, "sub") != want.subject)
    return InvalidArgument("invalid subject (sub) claim");
  if (!want.audiences.empty()) {
    const auto got = Audiences(claims);
    bool any = false;
    for (const auto& a : want.audiences) any = any || std::find(got.begin(), got.end(), a) != got.end();
    if (!any)
      return InvalidArgument("invalid audience (aud) claim: audience claim does not match any expected audience");
  }
  const int64_t iat = TimeClaim(claims, "iat").value_or(0);
  int64_t exp = TimeClaim(claims, "exp").value_or(0), nbf = TimeClaim(claims, "nbf").value_or(0);
  if (iat == 0 && exp == 0 && nbf == 0)
    return InvalidArgument("no issued at (iat), not before (nbf), or expiration time (exp) claims in token");
  if (exp == 0) exp = std::max(iat, nbf) + Leeway(want.expiration_leeway, 150);
  if (nbf == 0) nbf = iat != 0 ? iat : exp - Leeway(want.not_before_leeway, 150);
  const int64_t skew = Leeway(want.clock_skew_leeway, 60);
  if (now + skew < nbf) return InvalidArgument("invalid not before (nbf) claim: token not yet valid");
  if (now - skew > exp) return InvalidArgument("invalid expiration time (exp) claim: token is expired");
  if (iat != 0 && now + skew < iat) return InvalidArgument("invalid issued at (iat) claim: token issued in the future");
  return Status::Ok();
}

}  // namespace sealbox::auth::jwt
