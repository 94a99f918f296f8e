// The process's own figures, read from /proc at scrape time under the
// names Prometheus client libraries use: resident and virtual memory,
// threads, open and maximum descriptors, CPU seconds, start time.
#pragma once

#include "metrics/registry.h"

namespace sealbox::metrics {

void CollectProcess(SampleSink& sink);

// Adds CollectProcess to `registry` (once per process is enough).
void RegisterProcessCollector(Registry& registry);

}  // namespace sealbox::metrics
