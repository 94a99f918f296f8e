#include "metrics/registry.h"

#include <algorithm>

#include "metrics/quota.h"

namespace sealbox::metrics {

void SampleSink::Gauge(std::string name, std::string help, double value, Labels labels) {
  out_->push_back({std::move(name), std::move(help), MetricType::kGauge, std::move(labels), value, {}});
}

void SampleSink::Counter(std::string name, std::string help, double value, Labels labels) {
  out_->push_back({std::move(name), std::move(help), MetricType::kCounter, std::move(labels), value, {}});
}

Registry::Entry& Registry::GetEntry(const std::string& name, const std::string& help, const Labels& labels,
                                    MetricType type) {
  std::lock_guard l(mu_);
  auto [it, fresh] = entries_.try_emplace({name, labels});
  Entry& e = it->second;
  if (fresh) {
    e.help = help;
    e.type = type;
    if (type == MetricType::kCounter) e.counter = std::make_unique<metrics::Counter>();
    if (type == MetricType::kGauge) e.gauge = std::make_unique<metrics::Gauge>();
    if (type == MetricType::kHistogram) e.histogram = std::make_unique<metrics::Histogram>();
  }
  return e;
}

// A name registered twice with different types is a programming error: the
// second caller gets a private metric nobody exports rather than a crash.
Counter& Registry::GetCounter(const std::string& name, const std::string& help, const Labels& labels) {
  Entry& e = GetEntry(name, help, labels, MetricType::kCounter);
  if (e.counter) return *e.counter;
  static Counter orphan;
  return orphan;
}

Gauge& Registry::GetGauge(const std::string& name, const std::string& help, const Labels& labels) {
  Entry& e = GetEntry(name, help, labels, MetricType::kGauge);
  if (e.gauge) return *e.gauge;
  static Gauge orphan;
  return orphan;
}

Histogram& Registry::GetHistogram(const std::string& name, const std::string& help, const Labels& labels) {
  Entry& e = GetEntry(name, help, labels, MetricType::kHistogram);
  if (e.histogram) return *e.histogram;
  static Histogram orphan;
  return orphan;
}

int Registry::AddCollector(Collector c) {
  std::lock_guard l(mu_);
  int id = next_collector_++;
  collectors_.emplace(id, std::move(c));
  return id;
}

void Registry::RemoveCollector(int id) {
  std::lock_guard l(mu_);
  collectors_.erase(id);
}

std::vector<Sample> Registry::Collect() const {
  std::vector<Sample> out;
  std::vector<Collector> collectors;
  {
    std::lock_guard l(mu_);
    for (const auto& [key, e] : entries_) {
      Sample s{key.first, e.help, e.type, key.second, 0, {}};
      if (e.counter) s.value = static_cast<double>(e.counter->Value());
      if (e.gauge) s.value = e.gauge->Value();
      if (e.histogram) s.hist = e.histogram->Value();
      out.push_back(std::move(s));
    }
    for (const auto& [id, c] : collectors_) collectors.push_back(c);
  }
  // Collectors run unlocked: they may take their owners' locks.
  SampleSink sink(&out);
  for (const auto& c : collectors) c(sink);
  std::stable_sort(out.begin(), out.end(), [](const Sample& a, const Sample& b) {
    return a.name != b.name ? a.name < b.name : a.labels < b.labels;
  });
  return out;
}

Registry& DefaultRegistry() {
  static Registry* r = new Registry();  // never destroyed: metrics outlive every static user
  return *r;
}

}  // namespace sealbox::metrics

namespace sealbox::metrics {

Counter& QuotaViolations(QuotaKind kind, const std::string& name, Registry& registry) {
  if (kind == QuotaKind::kRateLimit)
    return registry.GetCounter("vault.quota.rate_limit.violation", "Requests a rate-limit quota refused (429)",
                               {{"name", name}});
  return registry.GetCounter("vault.quota.lease_count.violation", "Requests a lease-count quota refused",
                             {{"name", name}});
}

}  // namespace sealbox::metrics
