#include "core/snapshot_scheduler.h"

#include <algorithm>
#include <chrono>

#include "base/log.h"
#include "storage/snapshot_directory.h"

namespace sealbox::core {
namespace {

constexpr int64_t kNanos = 1'000'000'000;
// Bounds on what a configuration may ask for: a snapshot at most every
// second, at most every ten years; at most 10000 files kept.
constexpr int64_t kMaxIntervalS = int64_t{10} * 366 * 24 * 3600;
constexpr int kMaxRetain = 10000;
constexpr size_t kMaxConfigs = 100;
// With nothing configured the thread still wakes now and then (a write wakes it at once).
constexpr auto kIdleWait = std::chrono::hours(1);

std::string Time(int64_t ns) { return ns == 0 ? "0001-01-01T00:00:00Z" : FormatRfc3339Nano(ns); }

snapshot::LocalTarget TargetOf(const AutoSnapshotConfig& c) {
  return {c.path_prefix, c.file_prefix, c.retain, c.local_max_space};
}

std::string FileUrl(const AutoSnapshotConfig& c, int64_t stamp_ns) {
  std::string dir = c.path_prefix;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return "file://" + dir + "/" + c.file_prefix + "-" + std::to_string(stamp_ns) + ".snap";
}

}  // namespace

Json AutoSnapshotConfig::ToJson() const {
  return Json{{"interval", interval_s},       {"retain", retain},
              {"path_prefix", path_prefix},   {"file_prefix", file_prefix},
              {"storage_type", storage_type}, {"local_max_space", local_max_space}};
}

Result<AutoSnapshotConfig> AutoSnapshotConfig::FromJson(const std::string& name, const Json& j) {
  if (!j.is_object()) return Corruption("scheduled snapshot configuration " + name + " is malformed");
  AutoSnapshotConfig c;
  c.name = name;
  c.interval_s = j.value("interval", int64_t{0});
  c.retain = j.value("retain", 1);
  c.path_prefix = j.value("path_prefix", "");
  c.file_prefix = j.value("file_prefix", "vault-snapshot");
  c.storage_type = j.value("storage_type", "local");
  c.local_max_space = j.value("local_max_space", uint64_t{0});
  return c;
}

Status AutoSnapshotConfig::Validate() const {
  if (name.empty() || name.size() > 128 || name.find('/') != std::string::npos)
    return InvalidArgument("invalid configuration name");
  if (storage_type.empty()) return InvalidArgument("storage_type is required");
  if (storage_type != "local")
    return InvalidArgument("storage_type \"" + storage_type +
                           "\" is not supported: Sealbox writes scheduled snapshots to a local directory only "
                           "(storage_type \"local\")");
  if (interval_s < 1 || interval_s > kMaxIntervalS)
    return InvalidArgument("interval is required and must be between 1s and 10 years");
  if (retain > kMaxRetain) return InvalidArgument("retain must be at most " + std::to_string(kMaxRetain));
  if (path_prefix.empty()) return InvalidArgument("path_prefix is required");
  return snapshot::ValidateLocalTarget(TargetOf(*this));
}

Json AutoSnapshotStatus::ToJson() const {
  return Json{{"consecutive_errors", consecutive_errors},
              {"last_snapshot_start", Time(last_start_ns)},
              {"last_snapshot_end", Time(last_end_ns)},
              {"last_snapshot_error", last_error},
              {"last_snapshot_url", last_url},
              {"next_snapshot_start", Time(next_start_ns)},
              {"snapshot_start", Time(current_start_ns)},
              {"snapshot_url", current_url}};
}

SnapshotScheduler::SnapshotScheduler(Storage* view, const Clock* clock, TakeFn take)
    : view_(view), clock_(clock), take_(std::move(take)) {}

Status SnapshotScheduler::Start() {
  Stop();
  SB_ASSIGN_OR_RETURN(auto names, view_->List(""));
  std::map<std::string, Entry> loaded;
  const int64_t now = clock_->NowNanos();
  for (const auto& name : names) {
    SB_ASSIGN_OR_RETURN(auto raw, view_->Get(name));
    if (!raw) continue;
    SB_ASSIGN_OR_RETURN(auto config, AutoSnapshotConfig::FromJson(name, Json::parse(*raw, nullptr, false)));
    Entry e{std::move(config), {}};
    e.status.next_start_ns = now + e.config.interval_s * kNanos;
    loaded.emplace(name, std::move(e));
  }
  {
    std::lock_guard l(mu_);
    entries_ = std::move(loaded);
    changed_ = false;
  }
  stop_.store(false);
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void SnapshotScheduler::Stop() {
  stop_.store(true);
  {
    std::lock_guard l(mu_);
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  std::lock_guard l(mu_);
  entries_.clear();
}

Status SnapshotScheduler::Write(AutoSnapshotConfig config) {
  SB_RETURN_IF_ERROR(config.Validate());
  {
    std::lock_guard l(mu_);
    if (!entries_.count(config.name) && entries_.size() >= kMaxConfigs)
      return InvalidArgument("too many scheduled snapshot configurations (at most " +
                             std::to_string(kMaxConfigs) + ")");
  }
  SB_RETURN_IF_ERROR(view_->Put(config.name, config.ToJson().dump()));
  std::lock_guard l(mu_);
  Entry& e = entries_[config.name];
  e.status.next_start_ns = clock_->NowNanos() + config.interval_s * kNanos;
  e.config = std::move(config);
  changed_ = true;
  cv_.notify_all();
  return Status::Ok();
}

Status SnapshotScheduler::Delete(const std::string& name) {
  SB_RETURN_IF_ERROR(view_->Delete(name));
  std::lock_guard l(mu_);
  entries_.erase(name);
  changed_ = true;
  cv_.notify_all();
  return Status::Ok();
}

std::optional<AutoSnapshotConfig> SnapshotScheduler::Read(const std::string& name) {
  std::lock_guard l(mu_);
  auto it = entries_.find(name);
  if (it == entries_.end()) return std::nullopt;
  return it->second.config;
}

std::vector<std::string> SnapshotScheduler::List() {
  std::lock_guard l(mu_);
  std::vector<std::string> names;
  for (const auto& [name, e] : entries_) names.push_back(name);
  return names;
}

std::optional<AutoSnapshotStatus> SnapshotScheduler::GetStatus(const std::string& name) {
  std::lock_guard l(mu_);
  auto it = entries_.find(name);
  if (it == entries_.end()) return std::nullopt;
  return it->second.status;
}

int64_t SnapshotScheduler::RunDue(int64_t now_ns) {
  std::vector<AutoSnapshotConfig> due;
  {
    std::lock_guard l(mu_);
    for (auto& [name, e] : entries_) {
      if (e.status.next_start_ns > now_ns) continue;
      e.status.current_start_ns = now_ns;
      e.status.current_url = FileUrl(e.config, now_ns);
      due.push_back(e.config);
    }
  }
  for (const auto& c : due) {
    if (stop_.load()) break;
    TakeOne(c.name, c, now_ns);
  }
  std::lock_guard l(mu_);
  int64_t next = 0;
  for (const auto& [name, e] : entries_)
    if (next == 0 || e.status.next_start_ns < next) next = e.status.next_start_ns;
  return next;
}

void SnapshotScheduler::TakeOne(const std::string& name, const AutoSnapshotConfig& config, int64_t start_ns) {
  auto archive = take_(stop_);
  Result<std::string> path = archive.ok() ? snapshot::WriteSnapshotFile(TargetOf(config), *archive, start_ns)
                                          : Result<std::string>(archive.status());
  const int64_t end_ns = clock_->NowNanos();
  if (!path.ok()) log::Warn("core: scheduled snapshot " + name + " failed: " + path.status().message());
  std::lock_guard l(mu_);
  auto it = entries_.find(name);
  if (it == entries_.end()) return;  // deleted meanwhile
  AutoSnapshotStatus& st = it->second.status;
  st.last_start_ns = start_ns;
  st.last_end_ns = end_ns;
  st.current_start_ns = 0;
  st.current_url.clear();
  if (path.ok()) {
    st.consecutive_errors = 0;
    st.last_error.clear();
    st.last_url = "file://" + *path;
  } else {
    ++st.consecutive_errors;
    st.last_error = path.status().message();
  }
  // A configuration rewritten meanwhile keeps the schedule its write set.
  if (st.next_start_ns <= start_ns)
    st.next_start_ns = std::max(start_ns + it->second.config.interval_s * kNanos, end_ns);
}

void SnapshotScheduler::Run() {
  while (!stop_.load()) {
    const int64_t next = RunDue(clock_->NowNanos());
    std::unique_lock l(mu_);
    if (stop_.load()) break;
    if (changed_) {
      changed_ = false;
      continue;
    }
    auto wait = next == 0 ? std::chrono::duration_cast<std::chrono::nanoseconds>(kIdleWait)
                          : std::chrono::nanoseconds(std::max<int64_t>(0, next - clock_->NowNanos()));
    cv_.wait_for(l, wait, [&] { return stop_.load() || changed_; });
    changed_ = false;
  }
}

}  // namespace sealbox::core
