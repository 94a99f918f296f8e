// Vault 1.10+'s one-time-password encoding of a generated root token
// (sys/generate-root): the token's bytes XORed with the OTP's, the two the
// same length, written in base64 without padding (Go's RawStdEncoding). The
// server picks the OTP (base62, as long as a root token) unless the client
// gives one of that length. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace sealbox::root_token {

// The OTP length a root token needs: "hvs." plus 24 characters.
inline constexpr size_t kOtpLength = 28;

// A fresh OTP of kOtpLength base62 characters.
std::string GenerateOtp();

// InvalidArgument when the lengths differ.
Result<std::string> Encode(std::string_view token, std::string_view otp);

// The inverse of Encode; padding on `encoded` is accepted. InvalidArgument
// when `encoded` is not base64 or decodes to other than otp.size() bytes.
Result<std::string> Decode(std::string_view encoded, std::string_view otp);

}  // namespace sealbox::root_token
