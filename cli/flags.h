// Typed command-line flags with the rules of Go's flag package, which the
// vault CLI uses: `-name value`, `-name=value`, `--name` alike; a boolean
// flag never takes the next argument (only `-name=false`); parsing stops at
// the first positional argument or at `--`. Each command declares its flags
// as data (a list of FlagSpec); values are checked while parsing, so a bad
// value is an error naming the flag, never an abort later.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace sealbox::cli {

enum class FlagType {
  kString,
  kInt,       // decimal integer
  kBool,      // true/false/1/0/t/f as Go's strconv.ParseBool
  kDuration,  // Go duration ("90s", "1h30m") or integer seconds
  kStrings,   // repeatable: every occurrence is kept, in order
};

struct FlagSpec {
  std::string name;
  FlagType type = FlagType::kString;
  std::string usage;         // one paragraph for -help
  std::string default_value; // text in the flag's own syntax; "" for none
  // Non-empty: a vault flag Sealbox refuses (the reason is shown). Giving it
  // (a boolean only when true) is an error, so no request is sent without it.
  std::string unsupported;
};

// The values of one parse. Getters return the default of the flag's spec when
// the flag was not given; asking for an undeclared name is a programming
// error and returns the type's zero value.
class FlagValues {
 public:
  bool Has(const std::string& name) const { return given_.count(name) > 0; }
  std::string String(const std::string& name) const;
  int64_t Int(const std::string& name) const;
  bool Bool(const std::string& name) const;
  int64_t Seconds(const std::string& name) const;  // a kDuration flag
  std::vector<std::string> Strings(const std::string& name) const;

 private:
  friend class FlagSet;
  std::map<std::string, FlagSpec> specs_;
  std::map<std::string, std::vector<std::string>> given_;  // checked text per occurrence
};

struct ParsedArgs {
  FlagValues flags;
  std::vector<std::string> args;  // positional arguments, in order
};

class FlagSet {
 public:
  explicit FlagSet(std::vector<FlagSpec> specs);

  // Errors (InvalidArgument, messages as Go prints them):
  //   flag provided but not defined: -x
  //   flag needs an argument: -x
  //   invalid value "abc" for flag -x: <why>
  //   bad flag syntax: ---x
  Result<ParsedArgs> Parse(const std::vector<std::string>& args) const;

  const FlagSpec* Find(const std::string& name) const;
  const std::vector<FlagSpec>& specs() const { return specs_; }

 private:
  std::vector<FlagSpec> specs_;
};

// True when `args` asks for help: -h, -help or --help anywhere before `--`
// (the vault CLI's rule, so `read PATH -help` is help too, never a request).
bool WantsHelp(const std::vector<std::string>& args);

// Positional arguments that look like flags (vault warns about these: flags
// after the first positional argument are not parsed).
std::vector<std::string> FlagLikeArgs(const std::vector<std::string>& positional);

// Checks `text` against `type`; the error says why ("not an integer"...).
Status CheckFlagValue(FlagType type, const std::string& text);

}  // namespace sealbox::cli
