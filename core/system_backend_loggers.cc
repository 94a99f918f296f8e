// sys/loggers and sys/loggers/<name>: the log level at run time, as Vault.
// Sealbox has one logger, "core"; POST sets its level, DELETE returns it to
// the configured one (log_level, re-read on SIGHUP).
#include "base/log.h"
#include "core/system_backend.h"
#include "core/system_backend_names.h"

namespace sealbox::core {

namespace {

constexpr const char* kLogger = "core";

Result<log::Level> LevelField(FieldData& fd) {
  SB_ASSIGN_OR_RETURN(std::string text, fd.GetString("level"));
  if (text.empty()) return InvalidArgument("level is required");
  log::Level level;
  if (!log::ParseLevel(text, &level)) return InvalidArgument("invalid level provided: unknown log level: " + text);
  return level;
}

// The logger a request names: ours for sys/loggers (every logger).
std::string LoggerName(const FieldData& fd) {
  const Json& name = fd.Get("name");
  return name.is_string() ? name.get<std::string>() : std::string(kLogger);
}

}  // namespace

std::vector<PathSpec> SystemBackend::LoggerRoutes() {
  auto read = [](Request&, FieldData& fd) -> Result<Response> {
    Json data = Json::object();
    if (LoggerName(fd) == kLogger) data[kLogger] = std::string(log::LevelName(log::GetLevel()));
    return Response::WithData(std::move(data));
  };
  auto write = [](Request& req, FieldData& fd) -> Result<Response> {
    const std::string name = LoggerName(fd);
    if (name != kLogger) return InvalidArgument("logger \"" + name + "\" not found");
    SB_ASSIGN_OR_RETURN(log::Level level, LevelField(fd));
    log::SetLevel(level);
    return Response::Empty();
  };
  auto revert = [](Request& req, FieldData& fd) -> Result<Response> {
    const std::string name = LoggerName(fd);
    if (name != kLogger) return InvalidArgument("logger \"" + name + "\" not found");
    log::SetLevel(log::ConfiguredLevel());
    return Response::Empty();
  };
  auto ops = [&] {
    return std::map<Operation, logical::Handler>{
        {Operation::kRead, read}, {Operation::kUpdate, write}, {Operation::kDelete, revert}};
  };
  std::vector<PathSpec> r;
  r.push_back({.pattern = "loggers", .fields = {{"level"}}, .ops = ops()});
  r.push_back({.pattern = "loggers/{name}", .fields = {{"name"}, {"level"}}, .ops = ops()});
  return r;
}

}  // namespace sealbox::core
