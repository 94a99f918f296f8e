#include "core/admin_log.h"

#include <string>

#include "base/log.h"

namespace sealbox::core {

namespace {

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool EndsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

}  // namespace

std::string_view AdminChangeOf(std::string_view path, logical::Operation op) {
  using logical::Operation;
  const bool write = op == Operation::kUpdate || op == Operation::kCreate;
  const bool del = op == Operation::kDelete;
  if (!write && !del) return "";
  if (StartsWith(path, "mounts/")) {
    if (EndsWith(path, "/tune")) return write ? "mount tuned" : "";
    return write ? "mount enabled" : "mount disabled";
  }
  if (StartsWith(path, "auth/")) {
    if (EndsWith(path, "/tune")) return write ? "auth method tuned" : "";
    return write ? "auth method enabled" : "auth method disabled";
  }
  if (path == "remount" && write) return "mount moved";
  if (StartsWith(path, "policy/") || StartsWith(path, "policies/acl/") || StartsWith(path, "policies/password/")) {
    if (EndsWith(path, "/generate")) return "";
    return write ? "policy written" : "policy deleted";
  }
  if (StartsWith(path, "audit/")) return write ? "audit device enabled" : "audit device disabled";
  if (StartsWith(path, "quotas/")) return write ? "quota written" : "quota deleted";
  if (StartsWith(path, "storage/raft/snapshot-auto/config/"))
    return write ? "scheduled snapshot written" : "scheduled snapshot deleted";
  if (path == "loggers" || StartsWith(path, "loggers/")) return write ? "log level changed" : "log level reverted";
  if (path == "seal" && write) return "seal requested";
  if ((path == "rotate" || path == "rotate/keyring") && write) return "encryption key rotated";
  if ((StartsWith(path, "generate-root/") || StartsWith(path, "generate-root-token/")) && (write || del))
    return write ? "root generation step" : "root generation cancelled";
  if ((StartsWith(path, "rekey/") || StartsWith(path, "rekey-recovery-key/")))
    return write ? "rekey step" : "rekey cancelled";
  return "";
}

void LogAdminChange(const logical::Request& req, std::string_view change, std::string_view path) {
  if (!log::Enabled(log::Level::kInfo)) return;
  std::string_view accessor = req.token ? std::string_view(req.token->accessor) : std::string_view();
  log::WriteFields(log::Level::kInfo, std::string("admin: ") + std::string(change),
                   {{"path", path}, {"actor_accessor", accessor}, {"request_id", req.id}});
}

}  // namespace sealbox::core
