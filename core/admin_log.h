// One info line per administrative change (a mount, a policy, the seal...):
// what changed, where, and the accessor of the token that changed it —
// never the token itself nor any value the request carried.
#pragma once

#include <string_view>

#include "logical/request.h"

namespace sealbox::core {

// What a successful request to sys/<path> with `op` changed ("mount
// enabled"), or "" when it is no administrative change.
std::string_view AdminChangeOf(std::string_view path, logical::Operation op);

// `change` says what happened ("mount enabled"), `path` where ("sys/mounts/kv").
void LogAdminChange(const logical::Request& req, std::string_view change, std::string_view path);

}  // namespace sealbox::core
