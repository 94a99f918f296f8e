#include "cli/command.h"

#include <fstream>
#include <iostream>
#include <sstream>

namespace sealbox::cli {

int ArgCountError(size_t min, size_t max, size_t got) {
  const bool few = got < min;
  const size_t bound = few ? min : max;
  std::string expected = std::to_string(bound);
  if (min != max) expected = (few ? "at least " : "at most ") + expected;
  std::cerr << (few ? "Not enough" : "Too many") << " arguments (expected " << expected << ", got " << got << ")\n";
  return kExitUsage;
}

bool CheckArgs(const Invocation& inv, size_t min, size_t max, int* exit_code) {
  const size_t n = inv.args.size();
  if (n >= min && n <= max) return true;
  *exit_code = ArgCountError(min, max, n);
  return false;
}

Result<std::string> ReadFileOrStdin(const std::string& name) {
  std::stringstream ss;
  if (name == "-") {
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream in(name, std::ios::binary);
  if (!in) return InvalidArgument("cannot read " + name);
  ss << in.rdbuf();
  return ss.str();
}

Result<Json> ParseKeyValues(const std::vector<std::string>& items) {
  if (items.size() == 1 && items[0] == "-") {
    SB_ASSIGN_OR_RETURN(std::string text, ReadFileOrStdin("-"));
    Json doc = Json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) return InvalidArgument("stdin does not hold a JSON object");
    return doc;
  }
  Json out = Json::object();
  for (const auto& it : items) {
    const size_t eq = it.find('=');
    if (eq == std::string::npos || eq == 0)
      return InvalidArgument("invalid key/value pair \"" + it + "\": format must be key=value");
    std::string value = it.substr(eq + 1);
    if (value == "-" || (!value.empty() && value[0] == '@')) {
      auto read = ReadFileOrStdin(value == "-" ? "-" : value.substr(1));
      if (!read.ok()) return InvalidArgument("invalid key/value pair \"" + it + "\": " + read.status().message());
      value = *read;
    }
    out[it.substr(0, eq)] = value;
  }
  return out;
}

std::string CleanPath(std::string path) {
  while (!path.empty() && path[0] == '/') path.erase(0, 1);
  return path;
}

std::string SecondsText(int64_t seconds) { return std::to_string(seconds) + "s"; }

}  // namespace sealbox::cli
