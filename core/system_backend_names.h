// The logical layer's names that every sys/ handler file (system_backend*.cc)
// uses, declared once. Included by those files only: other code keeps the
// logical:: prefix.
#pragma once

#include "logical/routed_backend.h"

namespace sealbox::core {

using logical::FieldData;
using logical::FieldSpec;
using logical::FieldType;
using logical::Operation;
using logical::PathSpec;
using logical::Request;
using logical::Response;
using logical::RunMode;

}  // namespace sealbox::core
