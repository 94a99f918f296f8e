// sys/mounts, sys/auth, sys/remount and sys/internal/ui/mounts.
#include "core/core_impl.h"
#include "core/system_backend.h"

namespace sealbox::core {

std::vector<logical::PathSpec> SystemBackend::MountRoutes() { return {}; }

}  // namespace sealbox::core
