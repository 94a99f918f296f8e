#include "auth/cidr.h"

#include <arpa/inet.h>

#include <charconv>

namespace sealbox::auth {
namespace {

struct Block {
  unsigned char addr[16] = {0};
  int family = 0;
  int bits = 0;
};

bool ParseIp(const std::string& s, unsigned char out[16], int* family) {
  if (inet_pton(AF_INET, s.c_str(), out) == 1) {
    *family = AF_INET;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), out) == 1) {
    *family = AF_INET6;
    return true;
  }
  return false;
}

// "a.b.c.d/n" or a bare address (a full-length block).
bool ParseBlock(const std::string& cidr, Block* b) {
  const size_t slash = cidr.find('/');
  if (!ParseIp(cidr.substr(0, slash), b->addr, &b->family)) return false;
  const int max_bits = b->family == AF_INET ? 32 : 128;
  b->bits = max_bits;
  if (slash == std::string::npos) return true;
  const char* first = cidr.data() + slash + 1;
  const char* last = cidr.data() + cidr.size();
  auto [end, ec] = std::from_chars(first, last, b->bits);
  return ec == std::errc() && end == last && first != last && b->bits >= 0 && b->bits <= max_bits;
}

// Whether the first `bits` bits of `a` and `b` agree.
bool PrefixEqual(const unsigned char* a, const unsigned char* b, int bits) {
  for (int i = 0; i < bits; ++i) {
    const int byte = i / 8, bit = 7 - i % 8;
    if (((a[byte] >> bit) & 1) != ((b[byte] >> bit) & 1)) return false;
  }
  return true;
}

bool Contains(const Block& outer, const Block& inner) {
  return outer.family == inner.family && outer.bits <= inner.bits && PrefixEqual(outer.addr, inner.addr, outer.bits);
}

}  // namespace

bool CidrAddressValid(const std::string& cidr) {
  unsigned char buf[16];
  int fam = 0;
  return ParseIp(cidr.substr(0, cidr.find('/')), buf, &fam);
}

bool CidrValid(const std::string& cidr) {
  Block b;
  return ParseBlock(cidr, &b);
}

bool IpInCidrs(const std::string& ip_in, const std::vector<std::string>& cidrs) {
  std::string ip = ip_in;
  if (ip.rfind("::ffff:", 0) == 0 && ip.find('.') != std::string::npos) ip = ip.substr(7);
  Block client;
  if (ip.find('/') != std::string::npos || !ParseBlock(ip, &client)) return false;
  for (const auto& c : cidrs) {
    Block net;
    if (ParseBlock(c, &net) && Contains(net, client)) return true;
  }
  return false;
}

bool CidrsWithin(const std::vector<std::string>& outer, const std::vector<std::string>& inner) {
  if (outer.empty()) return true;
  for (const auto& i : inner) {
    Block in;
    if (!ParseBlock(i, &in)) return false;
    bool inside = false;
    for (const auto& o : outer) {
      Block out;
      inside = inside || (ParseBlock(o, &out) && Contains(out, in));
    }
    if (!inside) return false;
  }
  return true;
}

}  // namespace sealbox::auth
