#include "base/status.h"

namespace sealbox {

std::string Status::ToString() const {
  if (ok()) return "OK";
  static constexpr const char* kNames[] = {
      "OK",          "InvalidArgument", "PermissionDenied", "NotFound",   "Unsupported",
      "Conflict",    "TooLarge",        "UnsupportedMedia", "RateLimited", "Sealed",
      "Unavailable", "StorageFull",     "Internal",         "Corruption", "IOError"};
  return std::string(kNames[static_cast<int>(code_)]) + ": " + message_;
}

}  // namespace sealbox
