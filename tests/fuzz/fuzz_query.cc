// Query strings: the parser the API reads parameters with, and the audit
// entry's request_uri, where every query value is HMAC'd. What must hold:
// parsing is stable (the parsed pairs, percent-encoded again, parse to the
// same pairs); the entry is valid JSON whose request_uri keeps the path and
// carries no query value in clear, only "hmac-sha256:<64 hex>" or nothing.
#include <cstddef>
#include <cstdint>
#include <string>

#include "audit/entry_format.h"
#include "base/crypto.h"
#include "base/url_query.h"

namespace {

std::string EncodeAll(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) out += {'%', kHex[c >> 4], kHex[c & 15]};
  return out;
}

void CheckRoundTrip(std::string_view q) {
  const auto parsed = sealbox::ParseQuery(q);
  std::string again;
  for (const auto& [k, v] : parsed) again += EncodeAll(k) + "=" + EncodeAll(v) + "&";
  if (sealbox::ParseQuery(again) != parsed) __builtin_trap();
}

void CheckAuditedUri(std::string_view q) {
  static const sealbox::crypto::HmacSha256Key salt("fuzz-salt");
  sealbox::logical::Request req;
  req.original_path = "secret/x";
  req.request_uri = "/v1/secret/x?" + std::string(q);
  std::string out;
  sealbox::audit::AppendEntry(out, "request", "2026-01-01T00:00:00Z", req, {}, nullptr, "", {}, salt);
  auto entry = sealbox::Json::parse(out, nullptr, /*allow_exceptions=*/false);
  if (entry.is_discarded()) __builtin_trap();
  const std::string uri = entry["request"]["request_uri"];
  if (uri.rfind("/v1/secret/x?", 0) != 0) __builtin_trap();
  sealbox::ForEachQueryPair(std::string_view(uri).substr(13), [](std::string_view, std::string_view v, bool) {
    if (!v.empty() && (v.size() != 12 + 64 || v.substr(0, 12) != "hmac-sha256:")) __builtin_trap();
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view q(reinterpret_cast<const char*>(data), size);
  CheckRoundTrip(q);
  CheckAuditedUri(q);
  return 0;
}
