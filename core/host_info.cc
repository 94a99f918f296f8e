#include "core/host_info.h"

#include <dirent.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "base/clock.h"

namespace sealbox::core {
namespace {

std::vector<std::string> Lines(const char* path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

std::string FirstLine(const char* path) {
  auto lines = Lines(path);
  return lines.empty() ? "" : Trim(lines[0]);
}

// /proc/cpuinfo: one object per processor, gopsutil's names.
Json Cpus() {
  Json cpus = Json::array();
  Json cur;
  auto flush = [&] {
    if (!cur.is_null()) cpus.push_back(std::move(cur));
    cur = nullptr;
  };
  for (const std::string& line : Lines("/proc/cpuinfo")) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = Trim(line.substr(0, colon)), value = Trim(line.substr(colon + 1));
    if (key == "processor") {
      flush();
      cur = Json{{"cpu", std::atoi(value.c_str())}, {"vendorId", ""}, {"family", ""}, {"model", ""},
                 {"stepping", 0}, {"physicalId", ""}, {"coreId", ""}, {"cores", 1}, {"modelName", ""},
                 {"mhz", 0.0}, {"cacheSize", 0}, {"flags", Json::array()}, {"microcode", ""}};
      continue;
    }
    if (cur.is_null()) continue;
    if (key == "vendor_id") cur["vendorId"] = value;
    else if (key == "cpu family") cur["family"] = value;
    else if (key == "model") cur["model"] = value;
    else if (key == "stepping") cur["stepping"] = std::atoi(value.c_str());
    else if (key == "physical id") cur["physicalId"] = value;
    else if (key == "core id") cur["coreId"] = value;
    else if (key == "model name") cur["modelName"] = value;
    else if (key == "cpu MHz") cur["mhz"] = std::atof(value.c_str());
    else if (key == "cache size") cur["cacheSize"] = std::atoi(value.c_str());
    else if (key == "microcode") cur["microcode"] = value;
    else if (key == "flags") {
      std::istringstream words(value);
      for (std::string w; words >> w;) cur["flags"].push_back(w);
    }
  }
  flush();
  return cpus;
}

// /proc/stat's per-CPU lines, in seconds.
Json CpuTimes(int64_t* boot_time) {
  Json out = Json::array();
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (const std::string& line : Lines("/proc/stat")) {
    std::istringstream in(line);
    std::string name;
    in >> name;
    if (name == "btime") in >> *boot_time;
    if (name.rfind("cpu", 0) != 0 || name == "cpu") continue;
    double v[10] = {};
    for (double& x : v) in >> x;
    out.push_back({{"cpu", name}, {"user", v[0] / tick}, {"system", v[2] / tick}, {"idle", v[3] / tick},
                   {"nice", v[1] / tick}, {"iowait", v[4] / tick}, {"irq", v[5] / tick},
                   {"softirq", v[6] / tick}, {"steal", v[7] / tick}, {"guest", v[8] / tick},
                   {"guestNice", v[9] / tick}});
  }
  return out;
}

double Percent(double part, double whole) { return whole > 0 ? part * 100.0 / whole : 0.0; }

// Filesystems on block devices (gopsutil's non-"all" partitions), by mount point.
Json Disks() {
  Json out = Json::array();
  std::set<std::string> seen;
  for (const std::string& line : Lines("/proc/self/mounts")) {
    std::istringstream in(line);
    std::string device, path, fstype;
    in >> device >> path >> fstype;
    if (device.rfind("/dev/", 0) != 0 && path != "/") continue;
    if (!seen.insert(path).second) continue;
    struct statvfs st {};
    if (statvfs(path.c_str(), &st) != 0) continue;
    const double frsize = static_cast<double>(st.f_frsize);
    const uint64_t total = static_cast<uint64_t>(st.f_blocks * frsize);
    const uint64_t free = static_cast<uint64_t>(st.f_bavail * frsize);
    const uint64_t used = static_cast<uint64_t>((st.f_blocks - st.f_bfree) * frsize);
    const uint64_t inodes_used = st.f_files - st.f_ffree;
    out.push_back({{"path", path}, {"fstype", fstype}, {"total", total}, {"free", free}, {"used", used},
                   {"usedPercent", Percent(static_cast<double>(used), static_cast<double>(used + free))},
                   {"inodesTotal", st.f_files}, {"inodesUsed", inodes_used}, {"inodesFree", st.f_ffree},
                   {"inodesUsedPercent", Percent(static_cast<double>(inodes_used), static_cast<double>(st.f_files))}});
  }
  return out;
}

// /proc/meminfo in bytes, under gopsutil's lowercase names.
Json Memory() {
  std::map<std::string, uint64_t> kb;
  for (const std::string& line : Lines("/proc/meminfo")) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    kb[line.substr(0, colon)] = std::strtoull(line.c_str() + colon + 1, nullptr, 10) * 1024;
  }
  auto get = [&](const char* k) { return kb.count(k) ? kb[k] : uint64_t{0}; };
  const uint64_t total = get("MemTotal"), free = get("MemFree"), buffers = get("Buffers");
  const uint64_t cached = get("Cached") + get("SReclaimable");
  const uint64_t used = total > free + buffers + cached ? total - free - buffers - cached : 0;
  Json m = {{"total", total}, {"available", get("MemAvailable")}, {"used", used},
            {"usedPercent", Percent(static_cast<double>(used), static_cast<double>(total))},
            {"free", free}, {"active", get("Active")}, {"inactive", get("Inactive")}, {"wired", 0}, {"laundry", 0},
            {"buffers", buffers}, {"cached", cached}};
  for (auto [name, key] : {std::pair{"writeback", "Writeback"}, {"dirty", "Dirty"}, {"shared", "Shmem"},
                           {"slab", "Slab"}, {"sreclaimable", "SReclaimable"}, {"sunreclaim", "SUnreclaim"},
                           {"pagetables", "PageTables"}, {"swapcached", "SwapCached"},
                           {"commitlimit", "CommitLimit"}, {"committedas", "Committed_AS"},
                           {"swaptotal", "SwapTotal"}, {"swapfree", "SwapFree"}, {"mapped", "Mapped"},
                           {"vmalloctotal", "VmallocTotal"}, {"vmallocused", "VmallocUsed"},
                           {"hugepagesize", "Hugepagesize"}})
    m[name] = get(key);
  return m;
}

int CountProcesses() {
  int n = 0;
  if (DIR* d = opendir("/proc")) {
    while (struct dirent* e = readdir(d))
      if (std::isdigit(static_cast<unsigned char>(e->d_name[0]))) ++n;
    closedir(d);
  }
  return n;
}

Json Host(int64_t boot_time) {
  std::map<std::string, std::string> os;
  for (const std::string& line : Lines("/etc/os-release")) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string v = line.substr(eq + 1);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    os[line.substr(0, eq)] = v;
  }
  struct utsname u {};
  uname(&u);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  const std::string uptime = FirstLine("/proc/uptime");
  std::string family = os.count("ID_LIKE") ? os["ID_LIKE"] : os["ID"];
  // Debian's point release is in debian_version only (gopsutil reads it too).
  std::string version = os["VERSION_ID"];
  if (os["ID"] == "debian") {
    std::string point = FirstLine("/etc/debian_version");
    if (!point.empty()) version = point;
  }
  return {{"hostname", host}, {"uptime", static_cast<uint64_t>(std::atof(uptime.c_str()))},
          {"bootTime", boot_time}, {"procs", CountProcesses()}, {"os", "linux"}, {"platform", os["ID"]},
          {"platformFamily", family.substr(0, family.find(' '))}, {"platformVersion", version},
          {"kernelVersion", u.release}, {"kernelArch", u.machine}, {"virtualizationSystem", ""},
          {"virtualizationRole", ""}, {"hostid", FirstLine("/proc/sys/kernel/random/boot_id")}};
}

}  // namespace

Json CollectHostInfo(int64_t now_unix_nanos) {
  int64_t boot_time = 0;
  Json cpu_times = CpuTimes(&boot_time);
  return Json{{"cpu", Cpus()},     {"cpu_times", cpu_times},   {"disk", Disks()},
              {"host", Host(boot_time)}, {"memory", Memory()}, {"timestamp", FormatRfc3339Nano(now_unix_nanos)}};
}

}  // namespace sealbox::core
