#include "api/request_builder.h"

#include <cctype>

#include "base/crypto.h"
#include "base/url_query.h"

namespace sealbox::api {
namespace {

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Result<ParsedTarget> ParseTarget(std::string_view target) {
  ParsedTarget t;
  size_t qm = target.find('?');
  std::string_view raw_path = target.substr(0, qm);
  if (qm != std::string_view::npos) t.query = ParseQuery(target.substr(qm + 1));
  if (raw_path.substr(0, 4) != "/v1/") {
    t.is_api = false;
    t.path = std::string(raw_path);
    return t;
  }
  t.is_api = true;
  raw_path.remove_prefix(4);
  // Encoded dots and slashes are refused outright: after decoding they could
  // form segments that the checks below were meant to stop.
  std::string lower = ToLower(raw_path);
  if (lower.find("%2e") != std::string::npos || lower.find("%2f") != std::string::npos ||
      lower.find("%5c") != std::string::npos)
    return InvalidArgument("invalid request path");
  std::string path = PercentDecode(raw_path, false);
  for (unsigned char c : path)
    if (c < 0x20 || c == 0x7f) return InvalidArgument("invalid request path");
  // Segment rules: no "." or "..", no empty segment except one trailing "/".
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    size_t end = slash == std::string::npos ? path.size() : slash;
    std::string_view seg(path.data() + start, end - start);
    bool last = slash == std::string::npos;
    if (seg == "." || seg == "..") return InvalidArgument("invalid request path");
    if (seg.empty() && !(last && start > 0) && !(last && path.empty()))
      return InvalidArgument("invalid request path");
    if (last) break;
    start = slash + 1;
  }
  t.path = std::move(path);
  return t;
}

Result<Json> ParseBodyObject(const HttpRequest& http, const BuildLimits& limits) {
  std::string_view body = http.body;
  size_t i = 0;
  while (i < body.size() && std::isspace(static_cast<unsigned char>(body[i]))) ++i;
  if (i == body.size()) return Json::object();
  std::string ct = ToLower(http.Header("content-type"));
  // `curl -d '{...}'` labels JSON as a form; Vault users rely on it working.
  if (ct.rfind("application/x-www-form-urlencoded", 0) == 0 && body[i] != '{') {
    return ParseFormBounded(body, limits.json);
  }
  SB_ASSIGN_OR_RETURN(Json j, ParseJsonBounded(body, limits.json));
  if (j.is_null()) return Json::object();
  if (!j.is_object()) return InvalidArgument("error parsing JSON");
  return j;
}

Status ParseRequestBody(const HttpRequest& http, const BuildLimits& limits, logical::Request& req) {
  if (req.op != logical::Operation::kUpdate && req.op != logical::Operation::kPatch) return Status::Ok();
  SB_ASSIGN_OR_RETURN(req.data, ParseBodyObject(http, limits));
  return Status::Ok();
}

namespace {

// X-Vault-Wrap-TTL: seconds or a Go duration, as Vault parses it; only
// Vault's JSON wrap format.
Result<int64_t> WrapTtlOf(const HttpRequest& http) {
  constexpr const char* kPrefix = "error parsing X-Vault-Wrap-TTL header: ";
  std::string_view v = http.Header("x-vault-wrap-ttl");
  if (v.empty()) return int64_t{0};
  if (v.front() == '-') return InvalidArgument(std::string(kPrefix) + "requested wrap ttl cannot be negative");
  auto ttl = ParseDurationSeconds(v);
  if (!ttl.ok() || *ttl < 0) {
    std::string shown(v.substr(0, 64));
    return InvalidArgument(std::string(kPrefix) + "time: invalid duration \"" + shown + "\"");
  }
  std::string_view format = http.Header("x-vault-wrap-format");
  if (!format.empty() && format != "json") return InvalidArgument("only the json wrap format is supported");
  return *ttl;
}

}  // namespace

Result<logical::Request> BuildRequest(const HttpRequest& http, const ParsedTarget& target,
                                      const BuildLimits& limits, BodyParsing body) {
  using logical::Operation;
  logical::Request req;
  req.id = crypto::Uuid();
  req.path = target.path;
  req.request_uri = http.target;
  req.remote_addr = http.remote_addr;
  req.remote_port = http.remote_port;
  req.content_type = std::string(http.Header("content-type"));

  const std::string& m = http.method;
  bool body_op = false;
  if (m == "GET") {
    req.op = Operation::kRead;
    auto it = target.query.find("list");
    if (it != target.query.end()) {
      auto b = ParseBoolString(it->second);
      if (!b) return InvalidArgument("");
      if (*b) req.op = Operation::kList;
    }
  } else if (m == "LIST") {
    req.op = Operation::kList;
  } else if (m == "POST" || m == "PUT") {
    req.op = Operation::kUpdate;
    body_op = true;
  } else if (m == "PATCH") {
    req.op = Operation::kPatch;
    body_op = true;
    std::string ct = ToLower(req.content_type);
    if (ct.rfind("application/merge-patch+json", 0) != 0)
      return Status(StatusCode::kUnsupportedMediaType,
                    "PATCH requires Content-Type of application/merge-patch+json, provided " +
                        (req.content_type.empty() ? std::string("") : std::string("another type")));
  } else if (m == "DELETE") {
    req.op = Operation::kDelete;
  } else {
    return Unsupported("");
  }

  // As Vault: ?help=<anything> asks for the path's help, whatever the method.
  if (auto h = target.query.find("help"); h != target.query.end() && !h->second.empty()) {
    req.op = Operation::kHelp;
    body_op = false;
  }

  // As Vault: a write to a "directory" has no key to write (and paths ending
  // in / are prefixes to some backends).
  if (body_op && !req.path.empty() && req.path.back() == '/')
    return InvalidArgument("cannot write to a path ending in '/'");
  if (req.op == Operation::kList && (req.path.empty() || req.path.back() != '/')) req.path += '/';

  req.raw_body = http.body;
  if (body_op) {
    if (body == BodyParsing::kNow) {
      SB_ASSIGN_OR_RETURN(req.data, ParseBodyObject(http, limits));
    } else {
      req.data = Json::object();
    }
  } else {
    req.data = Json::object();
    for (const auto& [k, v] : target.query) {
      if (k == "list" || k == "help") continue;
      req.data[k] = v;
    }
  }

  req.client_token = std::string(RequestToken(http));
  SB_ASSIGN_OR_RETURN(req.wrap_ttl, WrapTtlOf(http));
  return req;
}

std::string_view RequestToken(const HttpRequest& http) {
  std::string_view tok = http.Header("x-vault-token");
  if (tok.empty()) {
    std::string_view authz = http.Header("authorization");
    if (authz.substr(0, 7) == "Bearer ") tok = authz.substr(7);
  }
  return tok;
}

}  // namespace sealbox::api
