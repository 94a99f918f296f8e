// The requests the server is running now, for sys/in-flight-req (Vault's
// shape: request id → start time, client address, path, method, client id).
// Never a token, a header or a body.
//
// On every routed request's path, so no global lock: 16 shards, each its own
// mutex and map, chosen by the request id's hash; a request takes one shard
// lock to enter and one to leave. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "base/json_util.h"

namespace sealbox::core {

class InFlightRequests {
 public:
  struct Entry {
    int64_t start_unix_nanos = 0;
    std::string remote;  // "ip:port"
    std::string path;    // as sent, "/v1/..." without the query
    std::string method;
    std::string client_id;
  };

  // Registered while it lives (move-only; empty when default-made).
  class Ticket {
   public:
    Ticket() = default;
    Ticket(InFlightRequests* owner, std::string id) : owner_(owner), id_(std::move(id)) {}
    Ticket(Ticket&& o) noexcept : owner_(o.owner_), id_(std::move(o.id_)) { o.owner_ = nullptr; }
    Ticket& operator=(Ticket&& o) noexcept {
      if (this != &o) {
        Release();
        owner_ = o.owner_;
        id_ = std::move(o.id_);
        o.owner_ = nullptr;
      }
      return *this;
    }
    ~Ticket() { Release(); }

   private:
    void Release();
    InFlightRequests* owner_ = nullptr;
    std::string id_;
  };

  Ticket Add(std::string id, Entry e);
  // {id: {start_time, client_remote_address, request_path, request_method, client_id}}.
  Json ToJson() const;

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Entry> entries;  // guarded by mu
  };
  Shard& ShardOf(const std::string& id) { return shards_[std::hash<std::string>{}(id) % kShards]; }
  void Remove(const std::string& id);
  std::array<Shard, kShards> shards_;
};

}  // namespace sealbox::core
