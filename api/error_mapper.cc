#include "api/error_mapper.h"

#include "api/api_handler.h"
#include "base/json_util.h"
#include "base/log.h"

namespace sealbox::api {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kUnsupportedOperation: return 405;
    case StatusCode::kConflict: return 409;
    case StatusCode::kTooLarge: return 413;
    case StatusCode::kUnsupportedMediaType: return 415;
    case StatusCode::kRateLimited: return 429;
    case StatusCode::kSealed: return 503;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kOutcomeUnknown: return 502;
    case StatusCode::kNotActive: return 503;
    case StatusCode::kStorageFull: return 507;
    case StatusCode::kInternal:
    case StatusCode::kCorruption:
    case StatusCode::kIOError: return 500;
  }
  return 500;
}

void AddStandardHeaders(HttpResponse& r, bool json) {
  r.headers.emplace_back("Cache-Control", "no-store");
  if (json) r.headers.emplace_back("Content-Type", "application/json");
}

HttpResponse ErrorResponse(int status, const std::string& message) {
  HttpResponse r;
  r.status = status;
  Json errors = Json::array();
  if (!message.empty()) errors.push_back(message);
  r.body = DumpJson(Json{{"errors", errors}});
  AddStandardHeaders(r, true);
  return r;
}

HttpResponse ErrorFromStatus(const Status& s) {
  int code = HttpStatusFor(s.code());
  switch (s.code()) {
    case StatusCode::kInternal:
    case StatusCode::kCorruption:
    case StatusCode::kIOError:
      log::Error("request failed: " + s.ToString());
      return ErrorResponse(500, "internal error");
    case StatusCode::kStorageFull:
      log::Error("request failed: storage full");
      return ErrorResponse(code, "storage full");
    case StatusCode::kPermissionDenied:
      // A missing or unknown token: Vault's bare text. Which errors carry
      // Vault's multierror text is core's decision (AsVaultMultierror in
      // core/core.cc: non-login requests only).
      if (s.message() == kInvalidTokenMessage) return ErrorResponse(403, "permission denied");
      return ErrorResponse(403, s.message());
    default:
      return ErrorResponse(code, s.message());
  }
}

}  // namespace sealbox::api
