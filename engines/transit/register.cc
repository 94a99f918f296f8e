#include "engines/transit/register.h"

#include <memory>

#include "engines/transit/transit_backend.h"

namespace sealbox::engines::transit {

logical::BackendFactory Factory() {
  return [](const logical::BackendConfig& cfg) -> Result<std::unique_ptr<logical::Backend>> {
    if (!cfg.storage) return InvalidArgument("transit backend needs a storage view");
    return std::unique_ptr<logical::Backend>(std::make_unique<TransitBackend>(cfg));
  };
}

}  // namespace sealbox::engines::transit
