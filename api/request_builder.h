// RequestBuilder: turns an HttpRequest into a logical::Request the way Vault's
// http/ layer does (method → operation, ?list=true, token headers, query or
// body → data), and refuses what must never reach the router: unclean paths
// (".", "..", "%2e", "%2f", "//", control characters), namespaces other than
// root, and response-wrapping requests.
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>

#include "api/http.h"
#include "base/json_util.h"
#include "base/status.h"
#include "logical/request.h"

namespace sealbox::api {

struct ParsedTarget {
  std::string path;  // decoded, without the leading "/v1/"
  std::map<std::string, std::string> query;
  bool is_api = false;  // started with /v1/
};

// Splits and validates the request target. InvalidArgument for unclean paths.
Result<ParsedTarget> ParseTarget(std::string_view target);

struct BuildLimits {
  JsonLimits json;
};

// Whether BuildRequest parses a write's body, or leaves it to
// ParseRequestBody (so a request is bound to its route, on the I/O thread,
// before any body is parsed).
enum class BodyParsing { kNow, kDeferred };

// Builds the logical request for a routed path. REQUIRES: target.is_api.
Result<logical::Request> BuildRequest(const HttpRequest& http, const ParsedTarget& target, const BuildLimits& limits,
                                      BodyParsing body = BodyParsing::kNow);
// Fills req.data from the body of a write (update, patch) that BuildRequest
// left unparsed; does nothing for other operations.
Status ParseRequestBody(const HttpRequest& http, const BuildLimits& limits, logical::Request& req);

// The caller's token: X-Vault-Token, else exactly "Bearer <token>" in
// Authorization; "" when neither.
std::string_view RequestToken(const HttpRequest& http);

// Parses a JSON request body into an object ({} for an empty body).
Result<Json> ParseBodyObject(const HttpRequest& http, const BuildLimits& limits);

}  // namespace sealbox::api
