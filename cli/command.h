// The command table: each command is data (name, help text, flags) plus a run
// function. The dispatcher (cli.cc) finds the command, answers -help, parses
// and checks the flags, builds the connection and output settings, and only
// then calls run: a command never sees a flag it did not declare.
#pragma once

#include <string>
#include <vector>

#include "cli/client.h"
#include "cli/flags.h"
#include "cli/output.h"

namespace sealbox::cli {

struct Invocation {
  std::vector<std::string> args;  // positional arguments
  FlagValues flags;
  Connection conn;     // set for commands that talk to a server
  OutputOptions out;
};

enum class OutputFlags {
  kNone,
  kFormat,       // -format
  kFormatField,  // -format and -field
};

struct Command {
  std::string name;      // "token create"
  std::string synopsis;  // one line in the parent's list
  std::string usage;     // "Usage: sealbox token create [options]\n\n  What it does..."
  std::vector<FlagSpec> flags;
  bool http = true;  // talks to a server: takes the HTTP flags
  OutputFlags output = OutputFlags::kNone;
  int (*run)(Invocation&) = nullptr;  // null for a group (prints its usage)
};

// One table per concern (commands_*.cc).
std::vector<Command> OperatorCommands();
std::vector<Command> GenericCommands();
std::vector<Command> KvCommands();
std::vector<Command> TokenCommands();
std::vector<Command> PolicyCommands();  // and lease
std::vector<Command> MountCommands();
std::vector<Command> BreakGlassCommands();  // operator generate-root, operator rekey
std::vector<Command> DebugCommands();

// Shared helpers of the command files.

// "Not enough arguments (expected N, got M)" and its siblings, exit 1.
int ArgCountError(size_t min, size_t max, size_t got);
// Checks args.size() in [min, max]; prints the error and returns false.
bool CheckArgs(const Invocation& inv, size_t min, size_t max, int* exit_code);

// Arguments K=V, K=@file, K=- (stdin); a single "-" reads a JSON object
// from stdin (vault's `write PATH -`). Errors name the bad pair.
Result<Json> ParseKeyValues(const std::vector<std::string>& items);

// Reads FILE, or stdin for "-".
Result<std::string> ReadFileOrStdin(const std::string& name);

// A path as the user typed it, without leading slashes.
std::string CleanPath(std::string path);

// Duration flags go to the server as "<seconds>s".
std::string SecondsText(int64_t seconds);

}  // namespace sealbox::cli
