// The database secrets engine (type "database"): connection configs, dynamic
// roles whose credentials exist only for their lease, and static roles whose
// password rotates (contract: kv-database-leases-kubernetes.md §3). It talks
// to databases only through DatabasePlugin (plugin.h); the composition root
// passes in the plugin types it supports.
#pragma once

#include <vector>

#include "engines/database/plugin.h"
#include "logical/backend.h"

namespace sealbox::engines::database {

// The engine's factory. Every mount it makes shares one RotationScheduler
// (one thread for all mounts' static-role rotations).
logical::BackendFactory Factory(std::vector<PluginType> plugins);

}  // namespace sealbox::engines::database
