#include "engines/database/rotation_scheduler.h"

namespace sealbox::engines::database {

RotationScheduler::~RotationScheduler() {
  {
    std::lock_guard l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t RotationScheduler::Add(Tick tick) {
  auto job = std::make_shared<Job>();
  job->tick = std::move(tick);
  std::lock_guard l(mu_);
  const uint64_t id = next_id_++;
  jobs_.emplace(id, std::move(job));
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
  return id;
}

void RotationScheduler::Cancel(uint64_t id) {
  std::unique_lock l(mu_);
  auto it = jobs_.find(id);
  if (it != jobs_.end()) {
    it->second->cancelled = true;
    jobs_.erase(it);
  }
  cv_.wait(l, [&] { return running_ != id; });
}

void RotationScheduler::Loop() {
  std::unique_lock l(mu_);
  while (!stopping_) {
    cv_.wait_for(l, period_, [this] { return stopping_; });
    if (!stopping_) RunRound(l);
  }
}

// Each job once, in id order; a job added or cancelled meanwhile is seen at
// once, as the next job is looked up after each tick.
void RotationScheduler::RunRound(std::unique_lock<std::mutex>& l) {
  for (auto it = jobs_.begin(); it != jobs_.end() && !stopping_;) {
    const uint64_t id = it->first;
    std::shared_ptr<Job> job = it->second;
    running_ = id;
    l.unlock();
    job->tick(job->cancelled);
    l.lock();
    running_ = 0;
    cv_.notify_all();
    it = jobs_.upper_bound(id);
  }
}

}  // namespace sealbox::engines::database
