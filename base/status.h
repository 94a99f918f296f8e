// Status and Result<T>: errors as values on the request path.
//
// A Status is a code plus a message that is safe to show to a client (it never
// carries a submitted value or a secret). api/error_mapper is the one place that
// turns a code into an HTTP status. OK costs nothing but an enum compare.
// Thread-safety: plain values; safe to copy between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace sealbox {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,       // 400
  kPermissionDenied,      // 403
  kNotFound,              // 404 (unsupported path, missing mount)
  kUnsupportedOperation,  // 405
  kConflict,              // 409 (mount path in use)
  kTooLarge,              // 413
  kUnsupportedMediaType,  // 415
  kRateLimited,           // 429
  kSealed,                // 503 "Vault is sealed"
  kUnavailable,           // 503: not done (a peer unreachable, a request never sent)
  kOutcomeUnknown,        // 502: sent to a peer that never answered; it may have acted
  kNotActive,             // 503: needs the active node (a standby refused a write; forwarded)
  kStorageFull,           // 507-ish, reported as 503 "storage full"
  kInternal,              // 500
  kCorruption,            // 500, logged, never echoed
  kIOError,               // 500, logged, never echoed
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

  // Marks a deliberately ignored status.
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status PermissionDenied(std::string m = "permission denied") {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
// No token, or one that does not exist. Vault answers these with a bare
// "permission denied"; a valid token without the capability gets the
// multierror text (api/error_mapper.cc writes both). The message is a
// sentinel, only ever compared and never shown, so it is spelled so that no
// real error text (sys/capabilities' "invalid token", say) can equal it.
inline constexpr const char* kInvalidTokenMessage = "<no or unknown token>";
inline Status InvalidToken() { return {StatusCode::kPermissionDenied, kInvalidTokenMessage}; }
inline Status NotFound(std::string m = "") { return {StatusCode::kNotFound, std::move(m)}; }
inline Status Unsupported(std::string m = "unsupported operation") {
  return {StatusCode::kUnsupportedOperation, std::move(m)};
}
inline Status TooLarge(std::string m) { return {StatusCode::kTooLarge, std::move(m)}; }
inline Status Sealed() { return {StatusCode::kSealed, "Vault is sealed"}; }
inline Status RateLimited(std::string m) { return {StatusCode::kRateLimited, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status OutcomeUnknown(std::string m) { return {StatusCode::kOutcomeUnknown, std::move(m)}; }
inline Status NotActive(std::string m = "node not active") { return {StatusCode::kNotActive, std::move(m)}; }
inline Status Internal(std::string m = "internal error") { return {StatusCode::kInternal, std::move(m)}; }
inline Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
inline Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
inline Status StorageFull() { return {StatusCode::kStorageFull, "storage full"}; }

// Result<T>: a T or a non-OK Status. Reading value() of an error asserts.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }  // NOLINT

  bool ok() const { return v_.index() == 0; }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { assert(ok()); return std::get<T>(v_); }
  const T& value() const& { assert(ok()); return std::get<T>(v_); }
  T&& value() && { assert(ok()); return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace sealbox

#define SB_CONCAT_INNER(a, b) a##b
#define SB_CONCAT(a, b) SB_CONCAT_INNER(a, b)

#define SB_RETURN_IF_ERROR(expr)                  \
  do {                                            \
    ::sealbox::Status sb_status_ = (expr);        \
    if (!sb_status_.ok()) return sb_status_;      \
  } while (0)

#define SB_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()

#define SB_ASSIGN_OR_RETURN(lhs, expr) \
  SB_ASSIGN_OR_RETURN_IMPL(SB_CONCAT(sb_result_, __LINE__), lhs, expr)

// The same for coroutines (base/task.h), which must co_return.
#define SB_CO_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) co_return tmp.status();            \
  lhs = std::move(tmp).value()

#define SB_CO_ASSIGN_OR_RETURN(lhs, expr) \
  SB_CO_ASSIGN_OR_RETURN_IMPL(SB_CONCAT(sb_result_, __LINE__), lhs, expr)
