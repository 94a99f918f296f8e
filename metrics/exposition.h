// The two renderings of a registry that sys/metrics serves, as Vault's
// metrics helper does: Vault's JSON (the in-memory sink's shape: Gauges,
// Counters, Samples) by default, and the Prometheus text exposition format
// (version 0.0.4) for ?format=prometheus or a scraper's Accept header.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "metrics/registry.h"

namespace sealbox::metrics {

// "vault.route.read.secret-" → "vault_route_read_secret_": every character
// outside [A-Za-z0-9_:] becomes '_' (go-metrics' Prometheus sink).
std::string PrometheusName(std::string_view dotted);

std::string RenderPrometheus(const std::vector<Sample>& samples);
// `now_unix` stamps the document; `uptime_s` turns sums into Vault's Rate.
std::string RenderVaultJson(const std::vector<Sample>& samples, int64_t now_unix, double uptime_s);

struct ScrapeAnswer {
  int status = 200;
  std::string content_type;
  std::string body;
};

// sys/metrics: `format` is the query's ("" or "prometheus"), `accept` the
// request's Accept header (a Prometheus scraper asks for
// application/openmetrics-text there). Vault's answers: 400 text for an
// unknown format or for Prometheus while its retention time is 0.
ScrapeAnswer Scrape(const Registry& registry, std::string_view format, std::string_view accept);

}  // namespace sealbox::metrics
