// Client-address checks shared by the auth methods and the token store:
// whether an address lies in a list of CIDR blocks, whether a CIDR parses,
// and whether one list of blocks lies within another. Pure functions;
// thread-safe.
#pragma once

#include <string>
#include <vector>

namespace sealbox::auth {

// True if `ip` is inside any of the CIDRs ("10.0.0.0/8", "::1/128", or a
// bare address). An IPv4-mapped IPv6 client ("::ffff:127.0.0.1") counts as
// its IPv4 address.
bool IpInCidrs(const std::string& ip, const std::vector<std::string>& cidrs);
// Whether the address of `cidr` (before any '/') is an IPv4 or IPv6 address.
bool CidrAddressValid(const std::string& cidr);
// Whether `cidr` is a whole block: an address and, when given, a prefix
// length that fits its family.
bool CidrValid(const std::string& cidr);
// Whether every block of `inner` lies inside some block of `outer`
// (Vault's cidrutil.SubsetBlocks). An empty `outer` contains everything.
bool CidrsWithin(const std::vector<std::string>& outer, const std::vector<std::string>& inner);

}  // namespace sealbox::auth
