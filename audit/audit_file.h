// Opening a file audit device's file without turning the device into a
// file-write primitive (HCSEC-2025-14 / CVE-2025-6000): a sudo token that
// enables a device must not be able to append to, or widen the mode of, a
// file that is not an audit log.
//
//   * `prefix` needs `allow_audit_log_prefixing = true` in the server config
//     and never holds a control character (a newline would start a line of
//     the attacker's choosing);
//   * `mode` never grants execute, setuid, setgid or sticky;
//   * an existing file's mode is only ever narrowed, never widened;
//   * an existing file must be a FIFO, empty, or a Sealbox audit log: its
//     first line is `<prefix>{"chain_start":…` or `<prefix>{"time":…` and
//     ends with the `"chain":"<64 hex>"}` field every Sealbox line carries;
//   * the last path component is never followed if it is a symbolic link;
//   * with `audit_file_dirs`, the file's directory (symbolic links resolved)
//     must be one of those directories or under one.
//
// Pure functions over the filesystem; thread-safe.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/status.h"

namespace sealbox::audit {

// What the server configuration allows file audit devices. Set once at
// start.
struct FileDeviceLimits {
  bool allow_prefix = false;               // allow_audit_log_prefixing
  std::vector<std::string> allowed_dirs;   // audit_file_dirs; empty: any directory
};

// "prefix": refused (InvalidArgument) without limits.allow_prefix, and when
// it holds a control character.
Status CheckAuditPrefix(const std::string& prefix, const FileDeviceLimits& limits);

// "mode" as chmod-style octal; "" is 0600, "0000" means "leave the mode
// alone". InvalidArgument for anything else than octal digits, and for an
// execute, setuid, setgid or sticky bit.
Result<mode_t> ParseAuditFileMode(const std::string& text);

// An opened audit file: the descriptor (O_APPEND, blocking) and, when the
// file already held lines, the chain value of its last complete one.
struct OpenedAuditFile {
  int fd = -1;
  bool appending = false;  // the file held lines before
  std::string last_chain;  // 64 hex, or "" (a torn last line)
};

// Opens (creating with `mode` if missing) the audit file at the absolute
// `path` under the rules above. InvalidArgument for a refusal (the message
// says why and names the path, never file contents); IOError when the file
// or its directory cannot be opened.
Result<OpenedAuditFile> OpenAuditFile(const std::string& path, mode_t mode, const std::string& prefix,
                                      const FileDeviceLimits& limits);

}  // namespace sealbox::audit
