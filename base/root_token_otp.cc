#include "base/root_token_otp.h"

#include "base/crypto.h"

namespace sealbox::root_token {
namespace {

std::string Xor(std::string_view a, std::string_view b) {
  std::string out(a.size(), '\0');
  for (size_t i = 0; i < a.size(); ++i) out[i] = static_cast<char>(a[i] ^ b[i]);
  return out;
}

}  // namespace

std::string GenerateOtp() { return crypto::RandomBase62(kOtpLength); }

Result<std::string> Encode(std::string_view token, std::string_view otp) {
  if (token.size() != otp.size()) return InvalidArgument("the OTP must be as long as the token");
  std::string b64 = crypto::Base64Encode(Xor(token, otp));
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return b64;
}

Result<std::string> Decode(std::string_view encoded, std::string_view otp) {
  std::string padded(encoded);
  while (!padded.empty() && padded.back() == '=') padded.pop_back();
  padded.append((4 - padded.size() % 4) % 4, '=');
  auto raw = crypto::Base64Decode(padded);
  if (!raw.ok()) return InvalidArgument("the encoded token is not valid base64");
  if (raw->size() != otp.size())
    return InvalidArgument("the encoded token is " + std::to_string(raw->size()) + " bytes, the OTP " +
                           std::to_string(otp.size()));
  return Xor(raw->view(), otp);
}

}  // namespace sealbox::root_token
