// The role's bound_service_account_namespace_selector arrives as a string
// holding a Kubernetes LabelSelector in JSON or YAML (Vault accepts both).
// yaml-cpp stays in selector_yaml.cc.
#pragma once

#include <string_view>

#include "base/json_util.h"
#include "base/status.h"

namespace sealbox::auth::k8s {

// Parses JSON (when it is valid JSON) or YAML into a JSON object. Errors:
// InvalidArgument without the input. Bounded: at most 64 KiB of text.
Result<Json> ParseLabelSelector(std::string_view text);

}  // namespace sealbox::auth::k8s
