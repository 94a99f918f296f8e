// Version strings. `kVaultApiVersion` is the Vault API level Sealbox mirrors;
// clients parse it as semver and gate features on it (contract decision 4).
#pragma once

namespace sealbox {

inline constexpr const char* kSealboxVersion = "0.1.0";
inline constexpr const char* kVaultApiVersion = "1.17.0+sealbox.0.1.0";
inline constexpr const char* kBuildDate = "2026-11-23T00:00:00Z";

}  // namespace sealbox
