// Where an audit device's lines go: a file (or stdout, or discard) or a
// socket. The device owns one sink and calls it under its lock; a sink holds
// no lock of its own.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace sealbox::audit {

class Sink {
 public:
  // How opening the sink bears on the device's hash chain.
  enum class ChainOnOpen {
    kKeep,     // the output goes on where it was (stdout, discard)
    kRestart,  // a new file or connection: its first line carries chain_start
    kResume,   // appending to a file that held lines: its chain goes on
  };
  struct Opened {
    ChainOnOpen chain = ChainOnOpen::kKeep;
    std::string last_chain;  // kResume: the chain value of the file's last line, "" if torn
  };

  virtual ~Sink() = default;

  // Opens (or reopens, after Close) the output. REQUIRES: the device's lock.
  virtual Result<Opened> Open() = 0;
  virtual void Close() = 0;  // REQUIRES: the device's lock
  // Writes one line in the calling thread, for sinks without a BatchFd.
  // REQUIRES: the device's lock.
  virtual Status Write(const std::string& line) = 0;
  // The descriptor the group writer appends batches to (a real file), or -1
  // when lines are written one at a time with Write. REQUIRES: the lock.
  virtual int BatchFd() const { return -1; }
  // True when a write may block for good (a FIFO, a network filesystem): the
  // group writer then writes on a thread of its own. REQUIRES: the lock.
  virtual bool MayStall() const { return false; }
  // True when writing never blocks the writing thread (a local file without
  // fsync, or discard), so a request may suspend instead. Thread-safe.
  virtual bool Suspends() const { return false; }
};

// Writes all of `data` to `fd` (and fdatasync with `sync`). StorageFull on
// ENOSPC, else IOError.
Status WriteFully(int fd, std::string_view data, bool sync);

}  // namespace sealbox::audit
