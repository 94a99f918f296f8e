#include "audit/device.h"

#include "audit/device_options.h"
#include "audit/file_sink.h"
#include "audit/socket_sink.h"
#include "base/log.h"

namespace sealbox::audit {
namespace {

// How long a line waits for the group write of a file (the device's
// write_timeout, 5 s by default).
std::chrono::milliseconds WriteTimeout(const Json& options) {
  auto timeout = ParseDurationSeconds(OptionString(options, "write_timeout", "5s"));
  if (timeout.ok() && *timeout > 0) return std::chrono::milliseconds(*timeout * 1000);
  return std::chrono::milliseconds(5000);
}

}  // namespace

Device::Device(DeviceConfig cfg, std::string salt, SecureBytes chain_key, FileDeviceLimits limits,
               std::unique_ptr<Sink> sink)
    : limits_(std::move(limits)),
      cfg_(std::move(cfg)),
      chain_key_(std::move(chain_key)),
      salt_key_(salt),
      fsync_(OptionBool(cfg_.options, "fsync", false)),
      prefix_(OptionString(cfg_.options, "prefix")),
      sink_(std::move(sink)),
      chain_(chain_key_.view()),
      writer_(cfg_.path, *sink_, fsync_, WriteTimeout(cfg_.options), [this] { Close(); }) {
  entry_options_.log_raw = OptionBool(cfg_.options, "log_raw", false);
  entry_options_.hmac_accessor = OptionBool(cfg_.options, "hmac_accessor", true);
  entry_options_.elide_lists = OptionBool(cfg_.options, "elide_list_responses", false);
  std::string filter = OptionString(cfg_.options, "filter");
  if (!filter.empty()) {
    auto f = AuditFilter::Parse(filter);
    if (f.ok()) filter_ = *f;  // MakeDevice has already refused a bad one
  }
}

Device::~Device() {
  std::lock_guard l(mu_);
  Close();
}

Status Device::WriteEntry(std::string_view body) {
  std::unique_lock l(mu_);
  SB_RETURN_IF_ERROR(Ready());
  std::string line;
  const size_t chain_at = chain_.Append(prefix_, body, line);
  if (sink_->BatchFd() >= 0) {
    if (!writer_.Admits(line.size())) return IOError("audit device is not keeping up");
    chain_.Commit(line, chain_at);
    Status s = writer_.Write(l, line);
    HandOff();
    return s;
  }
  Status s = sink_->Write(line);
  if (!s.ok()) {
    Close();
    return s;
  }
  chain_.Commit(line, chain_at);
  return Status::Ok();
}

void Device::Submit(std::span<const std::string> bodies, AuditWrite* w, Resumer* resumer) {
  std::unique_lock l(mu_);
  Status s = Ready();
  size_t size = 0;
  for (const auto& b : bodies) size += b.size() + prefix_.size() + 128;  // + chain field
  if (s.ok() && !writer_.Admits(size)) s = IOError("audit device is not keeping up");
  if (s.ok() && sink_->BatchFd() >= 0 && Suspends()) {
    std::string& queue = writer_.queue();
    for (const auto& b : bodies) chain_.Commit(queue, chain_.Append(prefix_, b, queue));
    if (writer_.Join(w, resumer)) resumer->Post([self = shared_from_this()] { self->Flush(); });
    return;
  }
  l.unlock();
  // Devices that may block (and the rare one that changed since the
  // request was dispatched) are written in the blocking way.
  for (size_t i = 0; s.ok() && i < bodies.size(); ++i) s = WriteEntry(bodies[i]);
  w->Complete(cfg_.path, s);
}

void Device::Reopen() {
  std::unique_lock l(mu_);
  if (!writer_.Drain(l, std::chrono::steady_clock::now() + std::chrono::seconds(5))) {
    log::Warn("audit: device " + cfg_.path + " is still writing; not reopened");
    return;
  }
  Close();
  Open().IgnoreError();
}

Status Device::Ready() {
  SB_RETURN_IF_ERROR(writer_.Usable());
  if (opened_) return Status::Ok();
  // A device persisted before the server config stopped allowing its
  // prefix fails closed (AuditBroker::Setup logs why).
  SB_RETURN_IF_ERROR(CheckAuditPrefix(prefix_, limits_));
  return Open();
}

Status Device::Open() {
  SB_ASSIGN_OR_RETURN(Sink::Opened opened, sink_->Open());
  switch (opened.chain) {
    case Sink::ChainOnOpen::kKeep:
      break;
    case Sink::ChainOnOpen::kRestart:
      chain_.Restart();
      break;
    case Sink::ChainOnOpen::kResume:
      chain_.Resume(opened.last_chain);
      break;
  }
  opened_ = true;
  return Status::Ok();
}

void Device::Close() {
  sink_->Close();
  opened_ = false;
}

void Device::Flush() {
  std::unique_lock l(mu_);
  if (writer_.Flush(l)) HandOff();
}

void Device::HandOff() {
  if (Resumer* r = writer_.TakeHandOff()) r->Post([self = shared_from_this()] { self->Flush(); });
}

Result<std::shared_ptr<Device>> MakeDevice(DeviceConfig cfg, std::string salt, SecureBytes key,
                                           const FileDeviceLimits& limits) {
  const Json& o = cfg.options;
  if (std::string filter = OptionString(o, "filter"); !filter.empty())
    SB_RETURN_IF_ERROR(AuditFilter::Parse(filter).status());
  std::unique_ptr<Sink> sink;
  if (cfg.type == "file") {
    std::string p = OptionString(o, "file_path", OptionString(o, "path"));
    if (p.empty()) return InvalidArgument("file_path is required");
    if (p != "stdout" && p != "discard" && p.front() != '/') return InvalidArgument("file_path must be absolute");
    sink = std::make_unique<FileSink>(p, OptionString(o, "mode", "0600"), OptionString(o, "prefix"), limits,
                                      OptionBool(o, "fsync", false));
  } else if (cfg.type == "socket") {
    if (OptionString(o, "address").empty()) return InvalidArgument("address is required");
    std::string t = OptionString(o, "socket_type", "tcp");
    if (t != "tcp" && t != "udp" && t != "unix") return InvalidArgument("socket_type must be tcp, udp or unix");
    sink = std::make_unique<SocketSink>(o);
  } else {
    return InvalidArgument("unknown audit device type");
  }
  return std::make_shared<Device>(std::move(cfg), std::move(salt), std::move(key), limits, std::move(sink));
}

Status CheckLimits(const DeviceConfig& cfg, const FileDeviceLimits& limits) {
  SB_RETURN_IF_ERROR(CheckAuditPrefix(OptionString(cfg.options, "prefix"), limits));
  if (cfg.type == "file") SB_RETURN_IF_ERROR(ParseAuditFileMode(OptionString(cfg.options, "mode", "0600")).status());
  return Status::Ok();
}

}  // namespace sealbox::audit
