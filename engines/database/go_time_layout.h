// Go's time layouts, for the username templates' `timestamp` function.
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sealbox::engines::database {

// Formats a UTC time with a Go layout ("2006-01-02T15:04:05Z07:00").
std::string FormatGoLayout(int64_t unix_nanos, std::string_view layout);

}  // namespace sealbox::engines::database
