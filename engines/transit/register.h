// The Transit engine's factory, registered with core's BackendRegistry by
// main() (engines never include core/):
//
//   registry.Register("transit", engines::transit::Factory());
//
// Thread-safety: the factory is stateless and may be called concurrently.
#pragma once

#include "logical/backend.h"

namespace sealbox::engines::transit {

logical::BackendFactory Factory();

}  // namespace sealbox::engines::transit
