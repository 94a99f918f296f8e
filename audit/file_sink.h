// The sink of a "file" audit device: a file opened under the rules of
// audit/audit_file.h, or "stdout", or "discard" (which writes nothing).
#pragma once

#include <atomic>
#include <string>

#include "audit/audit_file.h"
#include "audit/sink.h"

namespace sealbox::audit {

class FileSink final : public Sink {
 public:
  // `path` is absolute, "stdout" or "discard"; `mode` and `prefix` are the
  // device's options (checked when the file is opened).
  FileSink(std::string path, std::string mode, std::string prefix, FileDeviceLimits limits, bool fsync)
      : path_(std::move(path)), mode_(std::move(mode)), prefix_(std::move(prefix)), limits_(std::move(limits)),
        fsync_(fsync) {}
  // A detached write still stuck owns a descriptor of its own.
  ~FileSink() override { Close(); }

  Result<Opened> Open() override;
  void Close() override;
  // discard and stdout only; files go through the group writer.
  Status Write(const std::string& line) override;
  int BatchFd() const override { return fd_ > 1 ? fd_ : -1; }
  bool MayStall() const override { return may_stall_; }
  bool Suspends() const override { return suspends_.load(std::memory_order_relaxed); }

 private:
  const std::string path_;
  const std::string mode_;
  const std::string prefix_;
  const FileDeviceLimits limits_;
  const bool fsync_;
  int fd_ = -1;                        // -1: closed, or discard
  bool may_stall_ = false;
  std::atomic<bool> suspends_{false};  // set by Open and Close
};

}  // namespace sealbox::audit
