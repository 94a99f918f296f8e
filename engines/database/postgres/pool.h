// Pool: sessions to one database, bounded by max_open_connections. A request
// that finds every session busy waits (bounded) for one instead of opening
// more than the database allows. Sessions come out as Handles; one dropped
// without Put (an early error return) is closed and its slot freed.
// Thread-safety: all methods are thread-safe; a Handle is used by one thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/clock.h"
#include "engines/database/postgres/connection.h"

namespace sealbox::engines::database::postgres {

// The config's pool settings, as Vault's database plugins read them.
struct PoolLimits {
  int64_t max_open = 4;      // sessions open at once (idle + in use); <= 0: no limit
  int64_t max_idle = 0;      // idle sessions kept; 0: max_open (Vault's rule)
  int64_t max_lifetime = 0;  // seconds a session is reused; 0: forever

  size_t IdleCap() const;
};

class Pool : public std::enable_shared_from_this<Pool> {
 public:
  struct Release {
    std::weak_ptr<Pool> pool;
    void operator()(Connection* c) const;
  };
  using Handle = std::unique_ptr<Connection, Release>;

  Pool(ConnectFn connect, std::string dsn, PoolLimits limits, const Clock* clock)
      : connect_(std::move(connect)), dsn_(std::move(dsn)), limits_(limits), clock_(clock) {}

  // An idle healthy session, else a new one while under max_open, else waits
  // up to `wait` for one to come back (Unavailable after).
  Result<Handle> Get(std::chrono::milliseconds wait = std::chrono::seconds(10));
  // Returns a session for reuse (or closes it: unhealthy, too old, too many idle).
  void Put(Handle h);

 private:
  struct Idle {
    std::unique_ptr<Connection> conn;
    int64_t born;
  };

  // An idle session still fit for use, or null (the unfit are closed).
  Handle TakeIdle();
  Result<Handle> Open(std::unique_lock<std::mutex>& l);
  bool Expired(int64_t born) const;
  void Forget(Connection* c);

  ConnectFn connect_;
  std::string dsn_;
  PoolLimits limits_;
  const Clock* clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Idle> idle_;                     // guarded by mu_
  std::map<const Connection*, int64_t> born_;  // sessions in use and when opened; guarded by mu_
  int64_t open_ = 0;                           // idle + in use; guarded by mu_
};

}  // namespace sealbox::engines::database::postgres
