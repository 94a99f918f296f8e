#include "audit/audit_broker.h"

#include <span>

#include "audit/device.h"
#include "audit/device_options.h"
#include "base/clock.h"
#include "base/crypto.h"
#include "base/log.h"
#include "storage/storage.h"

namespace sealbox::audit {
namespace {

Json ConfigToJson(const DeviceConfig& c) {
  return Json{{"path", c.path}, {"type", c.type}, {"description", c.description}, {"options", c.options},
              {"local", c.local}};
}

}  // namespace

AuditBroker::AuditBroker() = default;
AuditBroker::~AuditBroker() { Teardown(); }

Status AuditBroker::Setup(Storage* view) {
  std::unique_lock l(mu_);
  Republish republish{this};
  view_ = view;
  devices_.clear();
  SB_ASSIGN_OR_RETURN(auto raw, view_->Get("table"));
  if (!raw) return Status::Ok();
  Json table = Json::parse(*raw, nullptr, false);
  if (!table.is_array()) return Corruption("audit table malformed");
  for (const auto& e : table) {
    DeviceConfig c;
    c.path = e.value("path", "");
    c.type = e.value("type", "");
    c.description = e.value("description", "");
    c.options = e.value("options", Json::object());
    c.local = e.value("local", false);
    SB_ASSIGN_OR_RETURN(auto salt, view_->Get("salt/" + c.path));
    SB_ASSIGN_OR_RETURN(auto key, view_->Get("chain-key/" + c.path));
    if (!salt || !key) return Corruption("audit device keys missing");
    SB_ASSIGN_OR_RETURN(SecureBytes kb, crypto::HexDecode(*key));
    if (Status refused = CheckLimits(c, limits_); !refused.ok())
      log::Error("audit: device " + c.path + " is refused by this server's configuration (" + refused.message() +
                 "): requests fail until it is disabled through another device or the configuration allows it");
    auto dev = MakeDevice(c, *salt, std::move(kb), limits_);
    if (!dev.ok()) {
      log::Error("audit: cannot re-create device " + c.path + ": " + dev.status().message());
      continue;
    }
    devices_[c.path] = *dev;  // opened lazily on first write
  }
  return Status::Ok();
}

void AuditBroker::Teardown() {
  std::unique_lock l(mu_);
  Republish republish{this};
  devices_.clear();
  view_ = nullptr;
}

Status AuditBroker::Persist() {
  Json table = Json::array();
  for (const auto& [p, d] : devices_) table.push_back(ConfigToJson(d->config()));
  return view_->Put("table", table.dump());
}

Status AuditBroker::Enable(DeviceConfig cfg) {
  if (cfg.path.empty()) return InvalidArgument("missing path");
  if (cfg.path.back() != '/') cfg.path += '/';
  // Checked here, not in MakeDevice: a device persisted before this check
  // must still come back on unseal (its bad value falls back to the default).
  if (std::string t = OptionString(cfg.options, "write_timeout"); !t.empty()) {
    auto secs = ParseDurationSeconds(t);
    if (!secs.ok() || *secs <= 0) return InvalidArgument("write_timeout must be a positive duration such as \"5s\"");
  }
  SB_RETURN_IF_ERROR(CheckLimits(cfg, limits_));
  std::string salt = crypto::Uuid();
  SecureBytes key = crypto::RandomBytes(32);
  std::string key_hex = crypto::HexEncode(key.view());
  SB_ASSIGN_OR_RETURN(auto dev, MakeDevice(cfg, salt, std::move(key), limits_));
  std::unique_lock l(mu_);
  Republish republish{this};
  if (!view_) return ::sealbox::Sealed();
  if (devices_.count(cfg.path)) return InvalidArgument("path already in use");
  {
    // Sanity check: the sink must accept a write before we rely on it.
    Json probe = {{"time", FormatRfc3339Nano(SystemClock::Default()->NowNanos())}, {"type", "audit-device-enabled"}};
    Status s = dev->WriteEntry(DumpJson(probe));
    if (s.code() == StatusCode::kInvalidArgument) return s;  // a refusal that says why
    if (!s.ok()) {
      std::string p = OptionString(cfg.options, "file_path", OptionString(cfg.options, "path", OptionString(cfg.options, "address")));
      return InvalidArgument("sanity check failed; unable to open \"" + p + "\" for writing");
    }
  }
  SB_RETURN_IF_ERROR(view_->Put("salt/" + cfg.path, salt));
  SB_RETURN_IF_ERROR(view_->Put("chain-key/" + cfg.path, key_hex));
  devices_[cfg.path] = dev;
  Status s = Persist();
  if (!s.ok()) devices_.erase(cfg.path);
  return s;
}

Status AuditBroker::Disable(const std::string& path_in) {
  std::string path = path_in.empty() || path_in.back() == '/' ? path_in : path_in + "/";
  std::unique_lock l(mu_);
  Republish republish{this};
  if (!view_) return ::sealbox::Sealed();
  if (!devices_.erase(path)) return Status::Ok();
  SB_RETURN_IF_ERROR(Persist());
  SB_RETURN_IF_ERROR(view_->Delete("salt/" + path));
  return view_->Delete("chain-key/" + path);
}

Json AuditBroker::List() const {
  std::shared_lock l(mu_);
  Json out = Json::object();
  for (const auto& [p, d] : devices_) {
    const auto& c = d->config();
    out[p] = Json{{"type", c.type}, {"description", c.description}, {"options", c.options}, {"local", c.local},
                  {"path", p}};
  }
  return out;
}

bool AuditBroker::Empty() const {
  std::shared_lock l(mu_);
  return devices_.empty();
}

bool AuditBroker::AnyBlocking() const {
  std::shared_lock l(mu_);
  for (const auto& [p, d] : devices_)
    if (!d->Suspends()) return true;
  return false;
}

std::vector<std::pair<std::string, uint64_t>> AuditBroker::ChainPositions() const {
  std::shared_lock l(mu_);
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const auto& [p, d] : devices_) out.emplace_back(p, d->ChainPosition());
  return out;
}

std::shared_ptr<const AuditBroker::DeviceList> AuditBroker::Devices() const {
  std::shared_lock l(mu_);
  return active_;
}

AuditBroker::Republish::~Republish() {
  auto list = std::make_shared<DeviceList>();
  for (const auto& [p, d] : broker->devices_) list->push_back(d);
  broker->active_ = list->empty() ? nullptr : std::move(list);
}

Result<std::string> AuditBroker::Hash(const std::string& path_in, const std::string& input) const {
  std::string path = path_in.empty() || path_in.back() == '/' ? path_in : path_in + "/";
  std::shared_lock l(mu_);
  auto it = devices_.find(path);
  if (it == devices_.end()) return InvalidArgument("unknown audit backend");
  return it->second->Hash(input);
}

Result<std::string> AuditBroker::ChainKey(const std::string& path_in) const {
  std::string path = path_in.empty() || path_in.back() == '/' ? path_in : path_in + "/";
  std::shared_lock l(mu_);
  auto it = devices_.find(path);
  if (it == devices_.end()) return InvalidArgument("unknown audit backend");
  return crypto::HexEncode(it->second->chain_key().view());
}

void AuditBroker::Reopen() {
  std::shared_lock l(mu_);
  for (auto& [p, d] : devices_) d->Reopen();
}

Status AuditBroker::LogRequest(const logical::Request& req, const MountInfo& mount, const std::string& error) {
  AuditWrite w = Log(EntryKind::kRequest, req, mount, nullptr, error, nullptr);
  w.await_ready();
  return w.await_resume();
}

Status AuditBroker::LogResponse(const logical::Request& req, const MountInfo& mount, const logical::Response* resp,
                                const std::string& error) {
  AuditWrite w = Log(EntryKind::kResponse, req, mount, resp, error, nullptr);
  w.await_ready();
  return w.await_resume();
}

// Entry buffers above this are not kept for the next request.
constexpr size_t kMaxScratchBytes = 64u << 10;

// Submits the entries to every device (the awaiter is at its final address
// by now: devices keep a pointer to it until they complete it).
bool AuditWrite::await_ready() {
  devices_ = broker_.Devices();
  if (!devices_) return true;
  remaining_.store(devices_->size() + 1, std::memory_order_relaxed);
  const std::string now = FormatRfc3339Nano(SystemClock::Default()->NowNanos());
  const std::string& full_path = req_.original_path.empty() ? req_.path : req_.original_path;
  const FilterFields fields{logical::OperationName(req_.op), full_path, req_.mount_point, req_.mount_type,
                            req_.mount_class};
  for (const auto& d : *devices_) {
    // A filtered-out entry counts as recorded; failures are never filtered.
    if (d->filter() && error_.empty() && !d->filter()->Matches(fields)) {
      Complete(d->config().path, Status::Ok());
      continue;
    }
    // The entries' text, built in this thread's buffers: devices copy it
    // into their batch before Submit or WriteEntry returns.
    thread_local std::string scratch[2];
    size_t n = 0;
    auto add = [&](const char* type, const logical::Response* resp) {
      std::string& entry = scratch[n++];
      entry.clear();
      AppendEntry(entry, type, now, req_, mount_, resp, error_, d->entry_options(), d->salt_key());
    };
    if (kind_ != EntryKind::kResponse) add("request", nullptr);
    if (kind_ != EntryKind::kRequest) add("response", resp_);
    const std::span<const std::string> bodies(scratch, n);
    if (resumer_) {
      d->Submit(bodies, this, resumer_);
    } else {
      Status s;
      for (size_t i = 0; s.ok() && i < bodies.size(); ++i) s = d->WriteEntry(bodies[i]);
      Complete(d->config().path, s);
    }
    for (std::string& b : scratch) {
      if (b.capacity() > kMaxScratchBytes) std::string().swap(b);  // a huge entry's buffer is not kept
    }
  }
  return remaining_.load(std::memory_order_acquire) == 1;
}

bool AuditWrite::await_suspend(std::coroutine_handle<> h) {
  handle_ = h;
  // Drops the awaiter's own count: if every device completed meanwhile,
  // carry on without suspending; else the last Complete resumes us.
  return remaining_.fetch_sub(1, std::memory_order_acq_rel) != 1;
}

void AuditWrite::Complete(const std::string& device_path, const Status& s) {
  if (s.ok()) {
    recorded_.fetch_add(1, std::memory_order_relaxed);
  } else {
    const char* what = kind_ == EntryKind::kRequest ? "request" : kind_ == EntryKind::kResponse ? "response" : "refusal";
    log::Error("audit: device " + device_path + " failed to log a " + what + " entry: " + s.message());
  }
  if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    std::coroutine_handle<> h = handle_;
    resumer_->Post([h] { h.resume(); });
  }
}

Status AuditWrite::await_resume() const {
  if (!devices_ || recorded_.load(std::memory_order_acquire) > 0) return Status::Ok();
  return Internal("no audit device could record the entry");
}

}  // namespace sealbox::audit
