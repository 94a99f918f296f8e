#include "audit/hash_chain.h"

#include <fstream>

#include "base/json_util.h"

namespace sealbox::audit {

size_t HashChain::Append(std::string_view prefix, std::string_view body, std::string& out) const {
  std::string started;
  if (starting_) {
    started = "{\"chain_start\":" + Json(prev_).dump() + (body.size() > 2 ? "," : "");
    started.append(body.substr(1));
    body = started;
  }
  uint8_t mac[crypto::HmacSha256Key::kSize];
  hmac_.SignParts({prev_, "\n", body}, mac);
  out.append(prefix);
  out.append(body.substr(0, body.size() - 1));  // '}': the chain is the last field
  out.append(",\"chain\":\"");
  const size_t chain_at = out.size();
  crypto::AppendHex(out, mac, sizeof mac);
  out.append("\"}\n");
  return chain_at;
}

void HashChain::Commit(std::string_view out, size_t chain_at) {
  prev_.assign(out.substr(chain_at, 2 * crypto::HmacSha256Key::kSize));
  starting_ = false;
  position_.fetch_add(1, std::memory_order_relaxed);
}

void HashChain::Resume(const std::string& last) {
  if (!last.empty()) prev_ = last;
  starting_ = false;
}

int VerifyFile(const std::string& file, const std::string& key_hex, const std::string& prefix, std::string* out) {
  auto key = crypto::HexDecode(key_hex);
  if (!key.ok() || key->empty()) {
    *out = "invalid key: expected the device's chain key in hex\n";
    return 2;
  }
  std::ifstream in(file);
  if (!in) {
    *out = "cannot read " + file + "\n";
    return 2;
  }
  std::string line, prev;
  size_t n = 0;
  bool first = true;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    if (!prefix.empty()) {
      if (line.compare(0, prefix.size(), prefix) != 0) {
        *out = "line " + std::to_string(n) + ": missing prefix\n";
        return 1;
      }
      line = line.substr(prefix.size());
    }
    const std::string tag = ",\"chain\":\"";
    size_t pos = line.rfind(tag);
    if (pos == std::string::npos || line.size() != pos + tag.size() + 64 + 2) {
      *out = "line " + std::to_string(n) + ": no chain field (altered or not a Sealbox audit line)\n";
      return 1;
    }
    std::string chain = line.substr(pos + tag.size(), 64);
    std::string body = line.substr(0, pos) + "}";
    if (first) {
      Json j = Json::parse(body, nullptr, false);
      if (j.is_object() && j.contains("chain_start") && j["chain_start"].is_string()) prev = j["chain_start"];
      first = false;
    }
    std::string want = crypto::HexEncode(crypto::HmacSha256(key->view(), prev + "\n" + body));
    if (!crypto::ConstantTimeEquals(want, chain)) {
      *out = "line " + std::to_string(n) + ": chain mismatch (this line was altered, or a line before it was "
             "dropped or reordered)\n";
      return 1;
    }
    prev = chain;
  }
  *out = "OK: " + std::to_string(n) + " lines verified\n";
  return 0;
}

}  // namespace sealbox::audit
