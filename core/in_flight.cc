#include "core/in_flight.h"

#include "base/clock.h"

namespace sealbox::core {

void InFlightRequests::Ticket::Release() {
  if (owner_) owner_->Remove(id_);
  owner_ = nullptr;
}

InFlightRequests::Ticket InFlightRequests::Add(std::string id, Entry e) {
  Shard& s = ShardOf(id);
  {
    std::lock_guard l(s.mu);
    s.entries.insert_or_assign(id, std::move(e));
  }
  return Ticket(this, std::move(id));
}

void InFlightRequests::Remove(const std::string& id) {
  Shard& s = ShardOf(id);
  std::lock_guard l(s.mu);
  s.entries.erase(id);
}

Json InFlightRequests::ToJson() const {
  Json out = Json::object();
  for (const Shard& s : shards_) {
    std::lock_guard l(s.mu);
    for (const auto& [id, e] : s.entries)
      out[id] = Json{{"start_time", FormatRfc3339Nano(e.start_unix_nanos)},
                     {"client_remote_address", e.remote},
                     {"request_path", e.path},
                     {"request_method", e.method},
                     {"client_id", e.client_id}};
  }
  return out;
}

}  // namespace sealbox::core
