// Plaintext key backups in Vault's format (keysutil.KeyData as JSON, then
// standard base64), so a backup taken from Vault or OpenBao restores here and
// one taken here restores there:
//   {"policy": {"name", "type" (Vault's number), "keys": {"<v>": {"key",
//    "hmac_key", "time", "creation_time", "convergent_version"}}, "derived",
//    "kdf", "convergent_encryption", "convergent_version", "exportable",
//    "allow_plaintext_backup", "deletion_allowed", "key_size", "latest_version",
//    "min_*_version", "archive_version", "archive_min_version"},
//   "archived_keys": {"keys": [entry for version archive_min_version + i]}}
// Signing keys carry Vault's key fields per version (signing_backup.h).
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "engines/transit/key_policy.h"

namespace sealbox::engines::transit {

// The backup text of `p` (REQUIRES: exportable and allow_plaintext_backup,
// checked by the caller).
Result<std::string> BackupPolicy(const KeyPolicy& p);

// The key a backup holds, renamed to `name` unless empty. InvalidArgument
// naming the problem for anything that is not a backup of a supported key.
Result<KeyPolicy> RestorePolicy(std::string_view backup, const std::string& name);

}  // namespace sealbox::engines::transit
