#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "base/json_util.h"
#include "metrics/exposition.h"
#include "metrics/process.h"
#include "metrics/quota.h"
#include "metrics/registry.h"

namespace sealbox::metrics {
namespace {

const Sample* Find(const std::vector<Sample>& all, const std::string& name) {
  for (const Sample& s : all)
    if (s.name == name) return &s;
  return nullptr;
}

TEST(CounterTest, SumsEveryThreadsShard) {
  Counter c;
  std::vector<std::thread> threads;
  for (int t = 0; t < 12; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) c.Add();
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.Value(), 12000u);
}

TEST(CounterTest, RecordsNothingWhileDisabled) {
  Counter c;
  SetEnabled(false);
  c.Add(5);
  SetEnabled(true);
  c.Add(2);
  EXPECT_EQ(c.Value(), 2u);
}

TEST(HistogramTest, BucketsSumCountMinMax) {
  Histogram h;
  h.ObserveNanos(30'000);       // 0.03 ms → first bucket (≤ 0.05)
  h.ObserveNanos(50'000);       // exactly on a bound: that bucket
  h.ObserveNanos(2'000'000);    // 2 ms → ≤ 2.5
  h.ObserveNanos(20'000'000'000);  // 20 s → +Inf
  HistogramValue v = h.Value();
  EXPECT_EQ(v.count, 4u);
  EXPECT_EQ(v.buckets[0], 2u);
  EXPECT_EQ(v.buckets[5], 1u);
  EXPECT_EQ(v.buckets[kBuckets - 1], 1u);
  EXPECT_DOUBLE_EQ(v.sum_ms, 0.03 + 0.05 + 2 + 20000);
  EXPECT_DOUBLE_EQ(v.min_ms, 0.03);
  EXPECT_DOUBLE_EQ(v.max_ms, 20000);
}

TEST(HistogramTest, EmptyHasZeroMinAndMax) {
  Histogram h;
  HistogramValue v = h.Value();
  EXPECT_EQ(v.count, 0u);
  EXPECT_EQ(v.min_ms, 0);
  EXPECT_EQ(v.max_ms, 0);
}

TEST(RegistryTest, SameNameAndLabelsIsTheSameMetric) {
  Registry r;
  Counter& a = r.GetCounter("vault.audit.log_request_failure", "h");
  Counter& b = r.GetCounter("vault.audit.log_request_failure", "h");
  Counter& other = r.GetCounter("vault.quota.rate_limit.violation", "h", {{"name", "q1"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &other);
  a.Add(3);
  auto all = r.Collect();
  ASSERT_NE(Find(all, "vault.audit.log_request_failure"), nullptr);
  EXPECT_EQ(Find(all, "vault.audit.log_request_failure")->value, 3);
}

TEST(RegistryTest, CollectorsRunAtScrapeAndCanBeRemoved) {
  Registry r;
  int runs = 0;
  int id = r.AddCollector([&](SampleSink& sink) {
    ++runs;
    sink.Gauge("vault.core.unsealed", "h", 1, {{"cluster", "c1"}});
  });
  auto all = r.Collect();
  ASSERT_NE(Find(all, "vault.core.unsealed"), nullptr);
  EXPECT_EQ(Find(all, "vault.core.unsealed")->labels, (Labels{{"cluster", "c1"}}));
  r.RemoveCollector(id);
  EXPECT_EQ(Find(r.Collect(), "vault.core.unsealed"), nullptr);
  EXPECT_EQ(runs, 1);
}

TEST(ExpositionTest, PrometheusNamesAsGoMetrics) {
  EXPECT_EQ(PrometheusName("vault.route.read.secret-"), "vault_route_read_secret_");
  EXPECT_EQ(PrometheusName("vault.core.handle_request"), "vault_core_handle_request");
  EXPECT_EQ(PrometheusName("9lives"), "_9lives");
}

TEST(ExpositionTest, PrometheusTextFormat) {
  Registry r;
  r.GetCounter("vault.audit.log_request_failure", "Audit request failures").Add(2);
  r.GetGauge("vault.core.unsealed", "1 when unsealed", {{"cluster", "a\"b\\c\nd"}}).Set(1);
  r.GetHistogram("vault.route.read.secret-", "").ObserveNanos(300'000);  // 0.3 ms
  std::string text = RenderPrometheus(r.Collect());
  EXPECT_NE(text.find("# TYPE vault_audit_log_request_failure counter\nvault_audit_log_request_failure 2\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("vault_core_unsealed{cluster=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE vault_route_read_secret_ histogram\n"), std::string::npos) << text;
  EXPECT_NE(text.find("vault_route_read_secret__bucket{le=\"0.25\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("vault_route_read_secret__bucket{le=\"0.5\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("vault_route_read_secret__bucket{le=\"+Inf\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("vault_route_read_secret__sum 0.3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("vault_route_read_secret__count 1\n"), std::string::npos) << text;
  // Help falls back to the name; every line ends in a newline.
  EXPECT_NE(text.find("# HELP vault_route_read_secret_ vault_route_read_secret_\n"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
}

TEST(ExpositionTest, OneFamilyHeaderForManySeries) {
  Registry r;
  r.GetCounter("vault.quota.rate_limit.violation", "h", {{"name", "b"}}).Add();
  r.GetCounter("vault.quota.rate_limit.violation", "h", {{"name", "a"}}).Add();
  std::string text = RenderPrometheus(r.Collect());
  EXPECT_EQ(text,
            "# HELP vault_quota_rate_limit_violation h\n# TYPE vault_quota_rate_limit_violation counter\n"
            "vault_quota_rate_limit_violation{name=\"a\"} 1\nvault_quota_rate_limit_violation{name=\"b\"} 1\n");
}

TEST(ExpositionTest, VaultJsonShape) {
  Registry r;
  r.GetCounter("vault.audit.log_response_failure", "").Add(4);
  r.GetGauge("vault.expire.num_leases", "").Set(7);
  Histogram& h = r.GetHistogram("vault.core.handle_request", "");
  h.ObserveNanos(1'000'000);
  h.ObserveNanos(3'000'000);
  Json doc = Json::parse(RenderVaultJson(r.Collect(), 1796643510, 10));
  EXPECT_EQ(doc["Timestamp"], "2026-12-07 11:38:30 +0000 UTC");
  EXPECT_EQ(doc["Points"], Json::array());
  ASSERT_EQ(doc["Gauges"].size(), 1u);
  EXPECT_EQ(doc["Gauges"][0], (Json{{"Name", "vault.expire.num_leases"}, {"Value", 7.0}, {"Labels", Json::object()}}));
  ASSERT_EQ(doc["Counters"].size(), 1u);
  EXPECT_EQ(doc["Counters"][0]["Name"], "vault.audit.log_response_failure");
  EXPECT_EQ(doc["Counters"][0]["Count"], 4.0);
  ASSERT_EQ(doc["Samples"].size(), 1u);
  const Json& s = doc["Samples"][0];
  EXPECT_EQ(s["Count"], 2);
  EXPECT_DOUBLE_EQ(s["Sum"].get<double>(), 4);
  EXPECT_DOUBLE_EQ(s["Min"].get<double>(), 1);
  EXPECT_DOUBLE_EQ(s["Max"].get<double>(), 3);
  EXPECT_DOUBLE_EQ(s["Mean"].get<double>(), 2);
  EXPECT_DOUBLE_EQ(s["Rate"].get<double>(), 0.4);
}

TEST(ScrapeTest, FormatsAsVaultAnswersThem) {
  Registry r;
  r.GetGauge("vault.core.unsealed", "").Set(1);
  ScrapeAnswer json = Scrape(r, "", "");
  EXPECT_EQ(json.status, 200);
  EXPECT_EQ(json.content_type, "application/json");
  // Retention 0 (the default without a telemetry stanza): no Prometheus.
  ScrapeAnswer off = Scrape(r, "prometheus", "");
  EXPECT_EQ(off.status, 400);
  EXPECT_EQ(off.body, "prometheus is not enabled");
  r.SetPrometheusRetentionSeconds(24 * 3600);
  ScrapeAnswer prom = Scrape(r, "prometheus", "");
  EXPECT_EQ(prom.status, 200);
  EXPECT_EQ(prom.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(prom.body.find("vault_core_unsealed 1\n"), std::string::npos);
  // A scraper's Accept header picks the text format without ?format=.
  ScrapeAnswer scraper = Scrape(r, "", "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;q=0.3");
  EXPECT_EQ(scraper.content_type, prom.content_type);
  ScrapeAnswer bogus = Scrape(r, "bogus", "");
  EXPECT_EQ(bogus.status, 400);
  EXPECT_EQ(bogus.body, "metric response format \"bogus\" unknown");
}

TEST(QuotaTest, OneCounterPerQuotaUnderVaultsNames) {
  Registry r;
  Counter& a = QuotaViolations(QuotaKind::kRateLimit, "global", r);
  EXPECT_EQ(&a, &QuotaViolations(QuotaKind::kRateLimit, "global", r));
  a.Add();
  a.Add();
  QuotaViolations(QuotaKind::kLeaseCount, "db", r).Add();
  std::string text = RenderPrometheus(r.Collect());
  EXPECT_NE(text.find("vault_quota_rate_limit_violation{name=\"global\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("vault_quota_lease_count_violation{name=\"db\"} 1\n"), std::string::npos) << text;
}

TEST(ProcessTest, ReportsThreadsDescriptorsAndMemory) {
  std::vector<Sample> out;
  SampleSink sink(&out);
  CollectProcess(sink);
  ASSERT_NE(Find(out, "process_threads"), nullptr);
  EXPECT_GE(Find(out, "process_threads")->value, 1);
  ASSERT_NE(Find(out, "process_open_fds"), nullptr);
  EXPECT_GE(Find(out, "process_open_fds")->value, 3);  // stdin, stdout, stderr at least
  ASSERT_NE(Find(out, "process_resident_memory_bytes"), nullptr);
  EXPECT_GT(Find(out, "process_resident_memory_bytes")->value, 1 << 20);
  ASSERT_NE(Find(out, "process_start_time_seconds"), nullptr);
  EXPECT_GT(Find(out, "process_start_time_seconds")->value, 1.7e9);
}

}  // namespace
}  // namespace sealbox::metrics
