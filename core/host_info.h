// sys/host-info: the host as Vault's gopsutil-based answer describes it
// (cpu, cpu_times, disk, host, memory, timestamp), read from /proc, /etc and
// statvfs on each call. Linux only; what cannot be read is left out or zero,
// never an error. Thread-safe (no state).
#pragma once

#include <cstdint>

#include "base/json_util.h"

namespace sealbox::core {

Json CollectHostInfo(int64_t now_unix_nanos);

}  // namespace sealbox::core
