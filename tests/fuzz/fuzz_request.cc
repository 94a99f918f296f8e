// Request parsing as the server does it after Beast: the target's path
// normalisation and query parsing, then the logical request from method,
// headers and body with the server's limits. The input is split into
// method, target, header lines and body by newlines.
#include <cstddef>
#include <cstdint>
#include <string>

#include "api/request_builder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  sealbox::api::HttpRequest http;
  size_t pos = 0;
  auto next = [&]() {
    size_t nl = in.find('\n', pos);
    std::string line = in.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? in.size() : nl + 1;
    return line;
  };
  http.method = next();
  http.target = next();
  for (std::string h = next(); !h.empty() && pos < in.size(); h = next()) {
    size_t colon = h.find(':');
    std::string name = h.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    http.headers.emplace_back(name, colon == std::string::npos ? "" : h.substr(colon + 1));
  }
  http.body = in.substr(pos);
  auto target = sealbox::api::ParseTarget(http.target);
  // Only /v1/ targets are routed; anything else is a 404 without a lookup.
  if (!target.ok() || !target->is_api) return 0;
  // Whatever passed normalisation must be clean: no dot segments, no empty
  // segments inside the path, no control characters.
  const std::string& p = target->path;
  if (p.find("/../") != std::string::npos || p.find("/./") != std::string::npos || p.rfind("../", 0) == 0 ||
      p == ".." || p == "." || p.find("//") != std::string::npos)
    __builtin_trap();
  for (unsigned char c : p)
    if (c < 0x20 || c == 0x7f) __builtin_trap();
  sealbox::api::BuildLimits limits;
  (void)sealbox::api::BuildRequest(http, *target, limits);
  return 0;
}
