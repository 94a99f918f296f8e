#include "metrics/process.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace sealbox::metrics {
namespace {

// Fields of /proc/self/stat after the command name (which may hold spaces).
struct ProcStat {
  double cpu_seconds = 0;
  double threads = 0;
  double start_ticks = 0;
  double vsize = 0;
  double rss_pages = 0;
  bool ok = false;
};

ProcStat ReadProcStat() {
  ProcStat st;
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return st;
  size_t close = line.rfind(')');
  if (close == std::string::npos) return st;
  std::istringstream fields(line.substr(close + 2));
  std::string f[22];
  for (auto& s : f) fields >> s;  // f[0] is field 3 (state)
  if (!fields) return st;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  st.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / tick;  // utime, stime
  st.threads = std::stod(f[17]);
  st.start_ticks = std::stod(f[19]);
  st.vsize = std::stod(f[20]);
  st.rss_pages = std::stod(f[21]);
  st.ok = true;
  return st;
}

double BootTime() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime" && in >> value) return value;
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

double OpenFds() {
  DIR* d = opendir("/proc/self/fd");
  if (!d) return 0;
  double n = 0;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n - 1;  // the directory stream's own descriptor
}

}  // namespace

void CollectProcess(SampleSink& sink) {
  ProcStat st = ReadProcStat();
  if (st.ok) {
    static const double kBoot = BootTime();
    const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    sink.Counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", st.cpu_seconds);
    sink.Gauge("process_resident_memory_bytes", "Resident memory size in bytes.",
               st.rss_pages * static_cast<double>(sysconf(_SC_PAGESIZE)));
    sink.Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", st.vsize);
    sink.Gauge("process_threads", "Number of OS threads in the process.", st.threads);
    sink.Gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
               kBoot + st.start_ticks / tick);
  }
  sink.Gauge("process_open_fds", "Number of open file descriptors.", OpenFds());
  struct rlimit rl {};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
    sink.Gauge("process_max_fds", "Maximum number of open file descriptors.",
               rl.rlim_cur == RLIM_INFINITY ? -1 : static_cast<double>(rl.rlim_cur));
}

void RegisterProcessCollector(Registry& registry) { registry.AddCollector(CollectProcess); }

}  // namespace sealbox::metrics
