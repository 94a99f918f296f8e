// Reading a secret typed by a person (an unseal key, a token) without
// showing it: on a terminal the prompt goes to stderr and echo is off until
// the line is read (restored on Ctrl-C too); from a pipe, one line is read.
#pragma once

#include <string>

#include "base/status.h"

namespace sealbox::cli {

// Errors: InvalidArgument when stdin is closed before a line.
Result<std::string> ReadSecret(const std::string& prompt);

}  // namespace sealbox::cli
