#include "server/request_framing.h"

#include <cctype>
#include <string_view>

namespace sealbox::server {
namespace {

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The codings of every Transfer-Encoding field in order, lowercased, without
// parameters ("gzip;q=1" → "gzip"); empty list items are skipped.
std::vector<std::string> TransferCodings(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::vector<std::string> codings;
  for (const auto& [name, value] : headers) {
    if (name != "transfer-encoding") continue;
    std::string_view rest = value;
    while (true) {
      const size_t comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      item = TrimSpace(item.substr(0, item.find(';')));
      if (!item.empty()) {
        std::string lower(item);
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        codings.push_back(std::move(lower));
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return codings;
}

}  // namespace

std::optional<FramingError> CheckFraming(unsigned version,
                                         const std::vector<std::pair<std::string, std::string>>& headers) {
  size_t hosts = 0;
  bool has_transfer_encoding = false, has_content_length = false;
  for (const auto& [name, value] : headers) {
    if (name == "host") ++hosts;
    if (name == "transfer-encoding") has_transfer_encoding = true;
    if (name == "content-length") has_content_length = true;
  }
  if (hosts > 1) return FramingError{400, "more than one Host header"};
  if (hosts == 0 && version >= 11) return FramingError{400, "missing required Host header"};
  if (!has_transfer_encoding) return std::nullopt;
  if (version < 11) return FramingError{400, "Transfer-Encoding is not allowed in an HTTP/1.0 request"};
  if (has_content_length) return FramingError{400, "both Transfer-Encoding and Content-Length"};
  const std::vector<std::string> codings = TransferCodings(headers);
  size_t chunked = 0;
  for (const auto& c : codings) chunked += c == "chunked";
  if (codings.empty() || codings.back() != "chunked" || chunked > 1)
    return FramingError{400, "chunked must be the final transfer coding, applied once"};
  if (codings.size() > 1) return FramingError{501, "unsupported transfer encoding"};
  return std::nullopt;
}

}  // namespace sealbox::server
