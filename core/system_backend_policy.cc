// sys/policy, sys/policies/acl and sys/capabilities*.
#include "core/core_impl.h"
#include "core/system_backend.h"

namespace sealbox::core {

std::vector<logical::PathSpec> SystemBackend::PolicyRoutes() { return {}; }

}  // namespace sealbox::core
