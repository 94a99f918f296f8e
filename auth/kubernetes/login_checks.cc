#include "auth/kubernetes/login_checks.h"

#include <algorithm>
#include <optional>

#include "base/json_writer.h"
#include "base/log.h"

namespace sealbox::auth::k8s {

bool GlobMatch(const std::string& p, const std::string& v) {
  if (p == "*") return true;
  bool pre = !p.empty() && p.front() == '*', suf = p.size() > 1 && p.back() == '*';
  if (!pre && !suf) return p == v;
  std::string core = p.substr(pre ? 1 : 0, p.size() - (pre ? 1 : 0) - (suf ? 1 : 0));
  if (pre && suf) return v.find(core) != std::string::npos;
  if (pre) return v.size() >= core.size() && v.compare(v.size() - core.size(), core.size(), core) == 0;
  return v.compare(0, core.size(), core) == 0;
}

Result<bool> SelectorMatches(const Json& selector, const Json& labels) {
  if (!selector.is_object()) return InvalidArgument("invalid namespace selector");
  auto label = [&](const std::string& k) -> const Json* {
    return labels.is_object() && labels.contains(k) ? &labels[k] : nullptr;
  };
  bool ok = true;
  if (selector.contains("matchLabels")) {
    if (!selector["matchLabels"].is_object()) return InvalidArgument("invalid namespace selector");
    for (auto& [k, v] : selector["matchLabels"].items()) {
      const Json* l = label(k);
      ok = ok && l && *l == v;
    }
  }
  if (selector.contains("matchExpressions")) {
    if (!selector["matchExpressions"].is_array()) return InvalidArgument("invalid namespace selector");
    for (const auto& e : selector["matchExpressions"]) {
      if (!e.is_object() || !e.contains("key") || !e.contains("operator")) return InvalidArgument("invalid namespace selector");
      std::string key = e["key"].get<std::string>(), op = e["operator"].get<std::string>();
      auto values = e.value("values", std::vector<std::string>{});
      const Json* l = label(key);
      bool in = l && l->is_string() && std::find(values.begin(), values.end(), l->get<std::string>()) != values.end();
      if (op == "In") ok = ok && in;
      else if (op == "NotIn") ok = ok && !in;
      else if (op == "Exists") ok = ok && l;
      else if (op == "DoesNotExist") ok = ok && !l;
      else return InvalidArgument("invalid namespace selector operator");
    }
  }
  return ok;
}


ServiceAccountClaims ExtractClaims(const Json& c) {
  ServiceAccountClaims out;
  auto str = [](const Json& o, const char* k) {
    return o.is_object() && o.contains(k) && o[k].is_string() ? o[k].get<std::string>() : std::string();
  };
  out.ns = str(c, "kubernetes.io/serviceaccount/namespace");
  out.name = str(c, "kubernetes.io/serviceaccount/service-account.name");
  out.uid = str(c, "kubernetes.io/serviceaccount/service-account.uid");
  out.secret_name = str(c, "kubernetes.io/serviceaccount/secret.name");
  // The nested projected-token claims win when present.
  if (c.contains("kubernetes.io") && c["kubernetes.io"].is_object()) {
    const Json& k = c["kubernetes.io"];
    if (!str(k, "namespace").empty()) out.ns = str(k, "namespace");
    if (k.contains("serviceaccount") && k["serviceaccount"].is_object()) {
      out.name = str(k["serviceaccount"], "name");
      out.uid = str(k["serviceaccount"], "uid");
    }
    if (k.contains("secret") && k["secret"].is_object()) out.secret_name = str(k["secret"], "name");
  }
  return out;
}

std::vector<std::string> Audiences(const Json& claims) {
  std::vector<std::string> out;
  if (!claims.contains("aud")) return out;
  const Json& a = claims["aud"];
  if (a.is_string()) out.push_back(a.get<std::string>());
  if (a.is_array())
    for (const auto& e : a)
      if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

Status CheckClaims(const Json& claims, const Json& cfg, const std::string& audience,
                   const std::vector<std::string>& token_aud, int64_t now) {
  std::string issuer = cfg.value("issuer", "");
  if (!issuer.empty() && !cfg.value("disable_iss_validation", true) &&
      (!claims.contains("iss") || claims["iss"] != issuer))
    return PermissionDenied("invalid issuer (iss) claim");
  if (!audience.empty() && std::find(token_aud.begin(), token_aud.end(), audience) == token_aud.end())
    return PermissionDenied("invalid audience (aud) claim: audience claim does not match any expected audience");
  constexpr int64_t kSkew = 60;
  auto num = [&](const char* k) -> std::optional<int64_t> {
    if (!claims.contains(k) || !claims[k].is_number()) return std::nullopt;
    return claims[k].get<int64_t>();
  };
  if (auto exp = num("exp"); exp && now > *exp + kSkew) return PermissionDenied("token is expired (exp)");
  if (auto nbf = num("nbf"); nbf && now + kSkew < *nbf) return PermissionDenied("token not yet valid (nbf)");
  if (auto iat = num("iat"); iat && now + kSkew < *iat) return PermissionDenied("token issued in the future (iat)");
  return Status::Ok();
}

std::string TokenReviewBody(const std::string& token, const std::vector<std::string>& audiences) {
  std::string body;
  body.reserve(token.size() + 160);
  JsonWriter w(body);
  w.BeginObject();
  w.PlainKey("apiVersion").String("authentication.k8s.io/v1");
  w.PlainKey("kind").String("TokenReview");
  w.PlainKey("spec").BeginObject();
  if (!audiences.empty()) w.PlainKey("audiences").StringList(audiences);
  w.PlainKey("token").String(token);
  w.EndObject();
  w.EndObject();
  return body;
}

Status CheckTokenReview(int http_status, std::string_view body, const std::vector<std::string>& audiences,
                        const ServiceAccountClaims& c) {
  if (http_status < 200 || http_status > 206) {
    log::Warn(http_status == 401 ? "kubernetes: TokenReview returned 401: the reviewer token is not valid (service "
                                   "account unauthorized; deleted or recreated?)"
                                 : "kubernetes: TokenReview returned HTTP " + std::to_string(http_status));
    return PermissionDenied();
  }
  // The answer echoes the spec (the JWT): only kind and status are read
  // below, and of status.user only username and uid, so nothing else is
  // built into the tree (the whole text is still parsed and must be valid).
  Json tr = Json::parse(
      body,
      [](int depth, Json::parse_event_t ev, Json& parsed) {
        if (ev != Json::parse_event_t::key) return true;
        if (depth == 1) return parsed == "kind" || parsed == "status";
        if (depth == 3) return parsed == "username" || parsed == "uid";  // keys of status.<object>
        return true;
      },
      false);
  if (!tr.is_object() || !tr.contains("status") || !tr["status"].is_object()) {
    log::Warn("kubernetes: TokenReview answer malformed");
    return PermissionDenied();
  }
  if (tr.value("kind", "") == "Status") {
    log::Warn("kubernetes: TokenReview returned a Status object");
    return PermissionDenied();
  }
  const Json& st = tr["status"];
  if (!st.value("error", "").empty() || !st.value("authenticated", false)) {
    log::Info("kubernetes: token not authenticated by the API server");
    return PermissionDenied();
  }
  if (!audiences.empty()) {
    auto got = st.value("audiences", std::vector<std::string>{});
    bool meet = false;
    for (const auto& a : audiences) meet = meet || std::find(got.begin(), got.end(), a) != got.end();
    if (!meet) return PermissionDenied();
  }
  static const Json kNoUser = Json::object();
  auto user_it = st.find("user");
  const Json& user = user_it != st.end() && user_it->is_object() ? *user_it : kNoUser;
  std::string username = user.value("username", "");
  std::string expect = "system:serviceaccount:" + c.ns + ":" + c.name;
  if (username != expect || user.value("uid", "") != c.uid) {
    log::Warn("kubernetes: TokenReview identity does not match the JWT claims");
    return PermissionDenied();
  }
  return Status::Ok();
}

}  // namespace sealbox::auth::k8s
