// UTF-8 encoding of one code point, shared by the parsers that decode
// \u escapes (HCL, username templates).
#pragma once

#include <cstdint>
#include <string>

namespace sealbox {

// Appends `cp` (REQUIRES: a Unicode scalar value, not a surrogate) as UTF-8.
void AppendUtf8(std::string& out, uint32_t cp);

}  // namespace sealbox
