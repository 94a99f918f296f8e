#include "metrics/exposition.h"

#include <algorithm>
#include <chrono>
#include <charconv>
#include <cmath>
#include <ctime>

#include "base/json_util.h"

namespace sealbox::metrics {
namespace {

const auto kProcessStart = std::chrono::steady_clock::now();

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // The shortest text that reads back as the same double ("0.03", not
  // "0.029999999999999999"), integers without an exponent.
  char buf[32];
  auto [end, ec] = std::fabs(v) < 1e15 && v == std::floor(v)
                       ? std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(v))
                       : std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "NaN";
}

void AppendEscapedLabelValue(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

// {a="x",le="0.5"}: the sample's labels, then `extra` if given.
std::string LabelSet(const Labels& labels, std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return "";
  std::string out = "{";
  bool first = true;
  auto add = [&](std::string_view k, std::string_view v) {
    if (!first) out += ',';
    first = false;
    out += PrometheusName(k);
    out += "=\"";
    AppendEscapedLabelValue(out, v);
    out += '"';
  };
  for (const auto& [k, v] : labels) add(k, v);
  if (!extra_name.empty()) add(extra_name, extra_value);
  out += '}';
  return out;
}

const char* TypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

void AppendHistogram(std::string& out, const std::string& name, const Sample& s) {
  uint64_t cumulative = 0;
  for (size_t b = 0; b < kBuckets; ++b) {
    cumulative += s.hist.buckets[b];
    std::string le = b < kBucketBoundsMs.size() ? FormatValue(kBucketBoundsMs[b]) : "+Inf";
    out += name + "_bucket" + LabelSet(s.labels, "le", le) + " " + std::to_string(cumulative) + "\n";
  }
  out += name + "_sum" + LabelSet(s.labels) + " " + FormatValue(s.hist.sum_ms) + "\n";
  out += name + "_count" + LabelSet(s.labels) + " " + std::to_string(s.hist.count) + "\n";
}

Json LabelsJson(const Labels& labels) {
  Json j = Json::object();
  for (const auto& [k, v] : labels) j[k] = v;
  return j;
}

// Go's time.Time.String() in UTC, to the second: "2026-12-07 11:38:30 +0000 UTC".
std::string GoTimestamp(int64_t unix_s) {
  std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
  return buf;
}

}  // namespace

std::string PrometheusName(std::string_view dotted) {
  std::string out(dotted);
  for (char& c : out) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == ':';
    if (!ok) c = '_';
  }
  if (!out.empty() && out[0] >= '0' && out[0] <= '9') out.insert(out.begin(), '_');
  return out;
}

std::string RenderPrometheus(const std::vector<Sample>& samples) {
  // One family per exposed name, its series together (names that differ
  // only in punctuation share a family).
  std::vector<std::pair<std::string, const Sample*>> named;
  named.reserve(samples.size());
  for (const Sample& s : samples) named.emplace_back(PrometheusName(s.name), &s);
  std::stable_sort(named.begin(), named.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  const std::string* family = nullptr;
  for (const auto& [name, s] : named) {
    if (!family || *family != name) {
      family = &name;
      out += "# HELP " + name + " " + (s->help.empty() ? name : s->help) + "\n";
      out += "# TYPE " + name + " " + TypeName(s->type) + "\n";
    }
    if (s->type == MetricType::kHistogram) AppendHistogram(out, name, *s);
    else out += name + LabelSet(s->labels) + " " + FormatValue(s->value) + "\n";
  }
  return out;
}

std::string RenderVaultJson(const std::vector<Sample>& samples, int64_t now_unix, double uptime_s) {
  Json gauges = Json::array(), counters = Json::array(), timers = Json::array();
  const double per_s = uptime_s > 0 ? 1 / uptime_s : 0;
  for (const Sample& s : samples) {
    if (s.type == MetricType::kGauge) {
      gauges.push_back({{"Name", s.name}, {"Value", s.value}, {"Labels", LabelsJson(s.labels)}});
    } else if (s.type == MetricType::kCounter) {
      // Every count here moves by one at a time: Count and Sum agree.
      const double one = s.value > 0 ? 1 : 0;
      counters.push_back({{"Name", s.name}, {"Count", s.value}, {"Rate", s.value * per_s}, {"Sum", s.value},
                          {"Min", one}, {"Max", one}, {"Mean", one}, {"Stddev", 0}, {"Labels", LabelsJson(s.labels)}});
    } else {
      const HistogramValue& h = s.hist;
      const double mean = h.count ? h.sum_ms / static_cast<double>(h.count) : 0;
      timers.push_back({{"Name", s.name}, {"Count", h.count}, {"Rate", h.sum_ms * per_s}, {"Sum", h.sum_ms},
                        {"Min", h.min_ms}, {"Max", h.max_ms}, {"Mean", mean}, {"Stddev", 0},
                        {"Labels", LabelsJson(s.labels)}});
    }
  }
  Json doc = {{"Timestamp", GoTimestamp(now_unix)}, {"Gauges", std::move(gauges)}, {"Points", Json::array()},
              {"Counters", std::move(counters)}, {"Samples", std::move(timers)}};
  return DumpJson(doc);
}

ScrapeAnswer Scrape(const Registry& registry, std::string_view format, std::string_view accept) {
  if (format.empty() && accept.find("application/openmetrics-text") != std::string_view::npos) format = "prometheus";
  if (format == "prometheus") {
    if (!registry.PrometheusEnabled()) return {400, "text/plain", "prometheus is not enabled"};
    return {200, "text/plain; version=0.0.4; charset=utf-8", RenderPrometheus(registry.Collect())};
  }
  if (!format.empty())
    return {400, "text/plain", "metric response format \"" + std::string(format.substr(0, 64)) + "\" unknown"};
  const double uptime =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - kProcessStart).count();
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  return {200, "application/json", RenderVaultJson(registry.Collect(), now, uptime)};
}

}  // namespace sealbox::metrics
