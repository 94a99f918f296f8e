// Registry: the named metrics of a process and the collectors that report
// values computed at scrape time (seal state, lease and token counts,
// process figures). Names are Vault's dotted ones ("vault.core.handle_request",
// "vault.route.read.secret-"); the Prometheus exposition sanitises them
// ("vault_core_handle_request", "vault_route_read_secret_") as go-metrics does.
//
// Get* takes a lock and returns a reference that stays valid for the
// registry's life (metrics are never removed): callers look a metric up once
// and keep it, so the hot path takes no lock. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "metrics/counter.h"
#include "metrics/gauge.h"
#include "metrics/histogram.h"

namespace sealbox::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

enum class MetricType { kCounter, kGauge, kHistogram };

// One series at scrape time.
struct Sample {
  std::string name;  // dotted
  std::string help;
  MetricType type = MetricType::kGauge;
  Labels labels;
  double value = 0;      // counters and gauges
  HistogramValue hist;   // histograms
};

// What a collector reports into, at scrape time.
class SampleSink {
 public:
  explicit SampleSink(std::vector<Sample>* out) : out_(out) {}
  void Gauge(std::string name, std::string help, double value, Labels labels = {});
  void Counter(std::string name, std::string help, double value, Labels labels = {});

 private:
  std::vector<Sample>* out_;
};

using Collector = std::function<void(SampleSink&)>;

class Registry {
 public:
  Counter& GetCounter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& GetGauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& GetHistogram(const std::string& name, const std::string& help, const Labels& labels = {});

  // Adds a collector run at every scrape; returns the id to remove it with.
  int AddCollector(Collector c);
  void RemoveCollector(int id);

  // Every series, sorted by name then labels (collectors run here).
  std::vector<Sample> Collect() const;

  // telemetry `prometheus_retention_time`: 0 turns the Prometheus format off.
  void SetPrometheusRetentionSeconds(int64_t s) { prometheus_retention_s_.store(s, std::memory_order_relaxed); }
  bool PrometheusEnabled() const { return prometheus_retention_s_.load(std::memory_order_relaxed) > 0; }

 private:
  struct Entry {
    std::string help;
    MetricType type;
    std::unique_ptr<metrics::Counter> counter;
    std::unique_ptr<metrics::Gauge> gauge;
    std::unique_ptr<metrics::Histogram> histogram;
  };
  Entry& GetEntry(const std::string& name, const std::string& help, const Labels& labels, MetricType type);

  mutable std::mutex mu_;
  std::map<std::pair<std::string, Labels>, Entry> entries_;  // guarded by mu_
  std::map<int, Collector> collectors_;                      // guarded by mu_
  int next_collector_ = 1;                                   // guarded by mu_
  std::atomic<int64_t> prometheus_retention_s_{0};
};

// The process's registry: what the server exports on sys/metrics.
Registry& DefaultRegistry();

}  // namespace sealbox::metrics
