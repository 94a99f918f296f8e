// debug: vault's `debug` command for the targets Sealbox serves. Over
// -duration it polls sys/host-info, sys/in-flight-req and sys/health with
// sys/seal-status every -interval, sys/metrics every -metrics-interval, reads
// sys/config/state/sanitized once, and writes vault's bundle: index.json
// (what ran, the files, each failed capture) and one JSON array per target,
// in a .tar.gz or, with -compress=false, a directory. A failed capture is
// recorded and the run goes on, as vault's.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include "base/clock.h"
#include "base/tar_gzip.h"
#include "base/version.h"
#include "cli/command.h"

namespace sealbox::cli {
namespace {

using T = FlagType;

// vault's bounds: shorter runs or polls are raised to these.
constexpr int64_t kMinSeconds = 5;
constexpr const char* kTargets[] = {"config", "host", "metrics", "requests", "server-status"};
// What vault's debug also captures and Sealbox does not serve, and why.
const std::map<std::string, std::string> kNotServed = {
    {"pprof", "Go runtime profiles: Sealbox is not a Go program"},
    {"log", "sys/monitor (log streaming) is not served; read the server's log"},
    {"replication-status", "Sealbox has no replication (nor has OpenBao)"}};

std::string Now() { return FormatRfc3339(SystemClock::Default()->NowSeconds()); }

struct Capture {
  const Connection& conn;
  Json index_errors = Json::array();
  std::map<std::string, Json> files;  // file name → array of polls

  // GET sys/<path>: its data (or the whole body when it has none), or null
  // after recording why.
  Json Get(const std::string& target, const std::string& path) {
    auto r = Call(conn, "GET", path);
    std::string error;
    if (!r.ok()) {
      error = r.status().message();
    } else if (r->status != 200 && !(path == "sys/health" && r->body.is_object())) {
      error = "GET /v1/" + path + ": " + std::to_string(r->status) + " " + r->body.dump();
    } else {
      const Json& b = r->body;
      return b.is_object() && b.contains("data") && b["data"].is_object() ? b["data"] : b;
    }
    index_errors.push_back(Json{{"target", target}, {"error", error}, {"timestamp", Now()}});
    return nullptr;
  }

  void Add(const std::string& file, Json entry) {
    if (entry.is_null()) return;
    auto& list = files[file];
    if (list.is_null()) list = Json::array();
    list.push_back(std::move(entry));
  }

  void Poll(const std::string& target) {
    if (target == "host") {
      Add("host_info.json", Get(target, "sys/host-info"));
    } else if (target == "requests") {
      Json r = Get(target, "sys/in-flight-req");
      if (!r.is_null()) Add("requests.json", Json{{"in_flight_requests", r}, {"timestamp", Now()}});
    } else if (target == "server-status") {
      Json health = Get(target, "sys/health"), seal = Get(target, "sys/seal-status");
      if (!health.is_null() && !seal.is_null())
        Add("server_status.json", Json{{"health", health}, {"seal", seal}, {"timestamp", Now()}});
    } else if (target == "metrics") {
      Add("metrics.json", Get(target, "sys/metrics"));
    } else if (target == "config") {
      Json c = Get(target, "sys/config/state/sanitized");
      if (!c.is_null()) Add("config.json", Json{{"config", c}, {"timestamp", Now()}});
    }
  }
};

struct Schedule {
  int64_t duration, interval, metrics_interval;
};

// Polls every target due at each tick, from now until the duration is over.
void Run(Capture& cap, const std::vector<std::string>& targets, const Schedule& s) {
  auto has = [&](const char* t) { return std::find(targets.begin(), targets.end(), t) != targets.end(); };
  if (has("config")) cap.Poll("config");
  const auto start = std::chrono::steady_clock::now();
  int64_t next_poll = 0, next_metrics = 0;
  while (true) {
    const int64_t due = std::min(next_poll, next_metrics);
    if (due > s.duration) break;
    std::this_thread::sleep_until(start + std::chrono::seconds(due));
    if (due == next_poll) {
      for (const char* t : {"host", "requests", "server-status"})
        if (has(t)) cap.Poll(t);
      next_poll += s.interval;
    }
    if (due == next_metrics) {
      if (has("metrics")) cap.Poll("metrics");
      next_metrics += s.metrics_interval;
    }
  }
}

Status WriteFile(const std::string& path, std::string_view data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
  f.close();
  if (!f) return IOError("cannot write " + path);
  ::chmod(path.c_str(), 0600);
  return Status::Ok();
}

// The bundle: <output>.tar.gz holding <base>/<file>, or the directory <output>.
Status WriteBundle(const std::string& output, bool compress, const std::map<std::string, Json>& files) {
  std::string base = output.substr(output.rfind('/') + 1);
  if (compress && base.size() > 7 && base.ends_with(".tar.gz")) base.resize(base.size() - 7);
  if (!compress) {
    if (::mkdir(output.c_str(), 0700) != 0) return IOError("cannot create the directory " + output);
    for (const auto& [name, body] : files) SB_RETURN_IF_ERROR(WriteFile(output + "/" + name, body.dump(2)));
    return Status::Ok();
  }
  std::vector<std::pair<std::string, std::string>> entries;
  for (const auto& [name, body] : files) entries.emplace_back(base + "/" + name, body.dump(2));
  SB_ASSIGN_OR_RETURN(std::string gz, archive::Gzip(archive::WriteTar(entries, SystemClock::Default()->NowSeconds())));
  return WriteFile(output, gz);
}

Json Index(const Invocation& inv, const std::vector<std::string>& targets, const Schedule& s, Capture& cap,
           const std::string& server_version) {
  Json files = Json::array();
  for (const auto& [name, _] : cap.files) files.push_back(name);
  return Json{{"version", 1},
              {"vault_address", inv.conn.addr},
              {"client_version", kSealboxVersion},
              {"server_version", server_version},
              {"timestamp", Now()},
              {"duration_seconds", s.duration},
              {"interval_seconds", s.interval},
              {"metrics_interval_seconds", s.metrics_interval},
              {"compress", inv.flags.Bool("compress")},
              {"targets", targets},
              {"output", Json{{"files", files}}},
              {"errors", cap.index_errors}};
}

int RunDebug(Invocation& inv) {
  int rc;
  if (!CheckArgs(inv, 0, 0, &rc)) return rc;
  std::vector<std::string> targets = inv.flags.Strings("target");
  if (targets.empty()) targets.assign(std::begin(kTargets), std::end(kTargets));
  for (const auto& t : targets) {
    if (auto it = kNotServed.find(t); it != kNotServed.end()) return Fail("target " + t + ": " + it->second, kExitUsage);
    if (std::find(std::begin(kTargets), std::end(kTargets), t) == std::end(kTargets))
      return Fail("unknown target " + t + " (config, host, metrics, requests, server-status)", kExitUsage);
  }
  Schedule s{std::max(kMinSeconds, inv.flags.Seconds("duration")), std::max(kMinSeconds, inv.flags.Seconds("interval")),
             std::max(kMinSeconds, inv.flags.Seconds("metrics-interval"))};
  s.interval = std::min(s.interval, s.duration);
  s.metrics_interval = std::min(s.metrics_interval, s.duration);
  const bool compress = inv.flags.Bool("compress");
  std::string output = inv.flags.String("output");
  if (output.empty()) output = "vault-debug-" + std::to_string(SystemClock::Default()->NowSeconds()) + (compress ? ".tar.gz" : "");
  struct stat st;
  if (::stat(output.c_str(), &st) == 0) return Fail("output " + output + " already exists", kExitUsage);

  auto health = Call(inv.conn, "GET", "sys/health");
  if (!health.ok()) return Fail("reaching the server", health.status());
  const std::string version = health->body.is_object() ? health->body.value("version", "") : "";
  std::fprintf(stderr, "==> Starting debug capture...\n  Address: %s\n  Duration: %llds, interval %llds, metrics %llds\n",
               inv.conn.addr.c_str(), static_cast<long long>(s.duration), static_cast<long long>(s.interval),
               static_cast<long long>(s.metrics_interval));
  Capture cap{inv.conn};
  Run(cap, targets, s);
  cap.files["index.json"] = Index(inv, targets, s, cap, version);
  if (Status w = WriteBundle(output, compress, cap.files); !w.ok()) return Fail("writing the bundle", w);
  std::printf("Success! Bundle written to: %s\n", output.c_str());
  return kExitOk;
}

}  // namespace

std::vector<Command> DebugCommands() {
  return {
      {"debug", "Runs the debug command",
       "Usage: sealbox debug [options]\n\n"
       "  Captures the server's state over a period into one bundle for an operator\n"
       "  or a support ticket: the sanitized configuration once; host information,\n"
       "  in-flight requests and health every -interval; metrics every\n"
       "  -metrics-interval. The layout is vault debug's. Needs a token that may\n"
       "  read those sys/ paths (sudo for the configuration).",
       {{"duration", T::kDuration, "How long to capture (at least 5s).", "2m"},
        {"interval", T::kDuration, "How often to poll host, requests and server-status (at least 5s).", "30s"},
        {"metrics-interval", T::kDuration, "How often to poll metrics (at least 5s).", "10s"},
        {"output", T::kString, "Where to write the bundle (default vault-debug-<unix time>.tar.gz here).", ""},
        {"compress", T::kBool, "Write a .tar.gz; false writes a directory.", "true"},
        {"target", T::kStrings, "What to capture, repeatable: config, host, metrics, requests, server-status.", ""}},
       true, OutputFlags::kNone, RunDebug},
  };
}

}  // namespace sealbox::cli
