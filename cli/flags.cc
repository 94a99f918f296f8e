#include "cli/flags.h"

#include <charconv>

#include "base/json_util.h"

namespace sealbox::cli {
namespace {

std::optional<int64_t> ParseInt(const std::string& text) {
  int64_t out = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, out);
  if (text.empty() || ec != std::errc() || p != end) return std::nullopt;
  return out;
}

// The value text a getter reads: the last occurrence, else the default.
const std::string* LastText(const std::map<std::string, std::vector<std::string>>& given,
                            const std::map<std::string, FlagSpec>& specs, const std::string& name) {
  if (auto it = given.find(name); it != given.end() && !it->second.empty()) return &it->second.back();
  if (auto it = specs.find(name); it != specs.end()) return &it->second.default_value;
  return nullptr;
}

}  // namespace

Status CheckFlagValue(FlagType type, const std::string& text) {
  switch (type) {
    case FlagType::kInt:
      if (!ParseInt(text)) return InvalidArgument("not an integer");
      break;
    case FlagType::kBool:
      if (!ParseBoolString(text)) return InvalidArgument("not a boolean");
      break;
    case FlagType::kDuration:
      if (!ParseDurationSeconds(text).ok() || text.empty())
        return InvalidArgument("invalid duration \"" + text + "\" (e.g. 30s, 10m, 1h)");
      break;
    case FlagType::kString:
    case FlagType::kStrings:
      break;
  }
  return Status::Ok();
}

std::string FlagValues::String(const std::string& name) const {
  const std::string* t = LastText(given_, specs_, name);
  return t ? *t : "";
}

int64_t FlagValues::Int(const std::string& name) const {
  const std::string* t = LastText(given_, specs_, name);
  return t ? ParseInt(*t).value_or(0) : 0;
}

bool FlagValues::Bool(const std::string& name) const {
  const std::string* t = LastText(given_, specs_, name);
  return t && ParseBoolString(*t).value_or(false);
}

int64_t FlagValues::Seconds(const std::string& name) const {
  const std::string* t = LastText(given_, specs_, name);
  if (!t) return 0;
  auto s = ParseDurationSeconds(*t);
  return s.ok() ? *s : 0;
}

std::vector<std::string> FlagValues::Strings(const std::string& name) const {
  if (auto it = given_.find(name); it != given_.end()) return it->second;
  return {};
}

FlagSet::FlagSet(std::vector<FlagSpec> specs) : specs_(std::move(specs)) {}

const FlagSpec* FlagSet::Find(const std::string& name) const {
  for (const auto& s : specs_)
    if (s.name == name) return &s;
  return nullptr;
}

Result<ParsedArgs> FlagSet::Parse(const std::vector<std::string>& args) const {
  ParsedArgs out;
  for (const auto& s : specs_) out.flags.specs_[s.name] = s;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') break;  // "-" alone is positional (stdin)
    if (arg == "--") {
      ++i;
      break;
    }
    std::string name = arg.substr(arg[1] == '-' ? 2 : 1);
    if (name.empty() || name[0] == '-' || name[0] == '=') return InvalidArgument("bad flag syntax: " + arg);
    std::string value;
    const size_t eq = name.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    const FlagSpec* spec = Find(name);
    if (!spec) return InvalidArgument("flag provided but not defined: -" + name);
    if (spec->type == FlagType::kBool && !inline_value) {
      value = "true";
    } else if (!inline_value) {
      if (i + 1 >= args.size()) return InvalidArgument("flag needs an argument: -" + name);
      value = args[++i];
    }
    if (Status st = CheckFlagValue(spec->type, value); !st.ok())
      return InvalidArgument("invalid value \"" + value + "\" for flag -" + name + ": " + st.message());
    out.flags.given_[name].push_back(value);
  }
  out.args.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  return out;
}

bool WantsHelp(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "--") return false;
    if (a == "-h" || a == "-help" || a == "--help") return true;
  }
  return false;
}

std::vector<std::string> FlagLikeArgs(const std::vector<std::string>& positional) {
  std::vector<std::string> out;
  for (const auto& a : positional)
    if (a.size() > 1 && a[0] == '-') out.push_back(a);
  return out;
}

}  // namespace sealbox::cli
