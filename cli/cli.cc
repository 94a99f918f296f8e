#include "cli/cli.h"

#include <iostream>
#include <map>

#include "cli/command.h"

namespace sealbox::cli {
namespace {

const std::vector<Command>& AllCommands() {
  static const std::vector<Command> all = [] {
    std::vector<Command> v;
    for (auto* table : {OperatorCommands, GenericCommands, KvCommands, TokenCommands, PolicyCommands, MountCommands,
                        BreakGlassCommands, DebugCommands})
      for (auto& c : table()) v.push_back(std::move(c));
    return v;
  }();
  return all;
}

const Command* FindCommand(const std::string& name) {
  for (const auto& c : AllCommands())
    if (c.name == name) return &c;
  return nullptr;
}

// The longest command named by the leading words of args; *used = words taken.
const Command* Resolve(const std::vector<std::string>& args, size_t* used) {
  const Command* found = nullptr;
  std::string name;
  for (size_t i = 0; i < args.size() && !args[i].empty() && args[i][0] != '-'; ++i) {
    name += (i ? " " : "") + args[i];
    if (const Command* c = FindCommand(name)) {
      found = c;
      *used = i + 1;
    }
  }
  return found;
}

std::vector<FlagSpec> OutputFlagSpecs(OutputFlags kind) {
  std::vector<FlagSpec> out;
  if (kind == OutputFlags::kNone) return out;
  out.push_back({"format", FlagType::kString, "Output format: table, json or yaml (VAULT_FORMAT).", ""});
  if (kind == OutputFlags::kFormatField)
    out.push_back({"field", FlagType::kString, "Print only this field, without a trailing newline when piped.", ""});
  return out;
}

std::vector<FlagSpec> AllFlags(const Command& c) {
  std::vector<FlagSpec> all = c.flags;
  if (c.http)
    for (auto& f : HttpFlagSpecs()) all.push_back(std::move(f));
  for (auto& f : OutputFlagSpecs(c.output)) all.push_back(std::move(f));
  return all;
}

const char* TypeHint(FlagType t) {
  switch (t) {
    case FlagType::kString: return "=<string>";
    case FlagType::kInt: return "=<int>";
    case FlagType::kDuration: return "=<duration>";
    case FlagType::kStrings: return "=<string>";
    case FlagType::kBool: return "";
  }
  return "";
}

void PrintFlagSection(const char* title, const std::vector<FlagSpec>& specs) {
  if (specs.empty()) return;
  std::cout << "\n" << title << ":\n";
  for (const auto& f : specs) {
    std::cout << "\n  -" << f.name << TypeHint(f.type) << "\n";
    if (!f.unsupported.empty()) std::cout << "      Not supported by Sealbox: " << f.unsupported << ".\n";
    else std::cout << "      " << f.usage << (f.default_value.empty() ? "" : " The default is " + f.default_value + ".")
                   << "\n";
  }
}

std::vector<const Command*> Children(const Command* parent) {
  std::vector<const Command*> out;
  const std::string prefix = parent ? parent->name + " " : "";
  for (const auto& c : AllCommands()) {
    if (c.name.compare(0, prefix.size(), prefix) != 0) continue;
    if (c.name.find(' ', prefix.size()) == std::string::npos) out.push_back(&c);
  }
  return out;
}

void PrintSubcommands(const Command* parent, std::ostream& o) {
  auto kids = Children(parent);
  size_t width = 0;
  for (auto* k : kids) width = std::max(width, k->name.size() - (parent ? parent->name.size() + 1 : 0));
  o << "\n" << (parent ? "Subcommands" : "Commands") << ":\n";
  for (auto* k : kids) {
    std::string leaf = k->name.substr(parent ? parent->name.size() + 1 : 0);
    o << "    " << leaf << std::string(width - leaf.size() + 4, ' ') << k->synopsis << "\n";
  }
}

void PrintHelp(const Command& c, std::ostream& o) {
  o << c.usage << "\n";
  if (!c.run) {
    PrintSubcommands(&c, o);
    return;
  }
  std::vector<FlagSpec> http = c.http ? HttpFlagSpecs() : std::vector<FlagSpec>{};
  PrintFlagSection("HTTP Options", http);
  PrintFlagSection("Output Options", OutputFlagSpecs(c.output));
  PrintFlagSection("Command Options", c.flags);
}

void PrintTopUsage(std::ostream& o) {
  o << "Usage: sealbox <command> [args]\n\n"
       "  The server (`sealbox server`) and, in the same binary, a client with the\n"
       "  vault CLI's commands, flags, environment and exit codes.\n\n"
       "    server        Start a Sealbox server\n"
       "    kms-plugin    Serve the Kubernetes KMS v2 API backed by a Transit key\n"
       "    version       Print the version";
  o << "\n";
  PrintSubcommands(nullptr, o);
}

// A refused flag that was given (a boolean only when true).
Status CheckUnsupported(const std::vector<FlagSpec>& specs, const FlagValues& v) {
  for (const auto& f : specs) {
    if (f.unsupported.empty() || !v.Has(f.name)) continue;
    if (f.type == FlagType::kBool && !v.Bool(f.name)) continue;
    return InvalidArgument("flag -" + f.name + " is not supported by Sealbox: " + f.unsupported);
  }
  return Status::Ok();
}

Result<OutputOptions> OutputFrom(const Command& c, const FlagValues& v) {
  OutputOptions out;
  if (c.output == OutputFlags::kNone) return out;
  out.format = v.Has("format") ? v.String("format") : Env("FORMAT");
  if (out.format.empty()) out.format = "table";
  if (out.format != "table" && out.format != "json" && out.format != "yaml")
    return InvalidArgument("Invalid output format: " + out.format);
  if (c.output == OutputFlags::kFormatField) out.field = v.String("field");
  return out;
}

int RunCommand(const Command& c, const std::vector<std::string>& rest) {
  if (WantsHelp(rest)) {
    PrintHelp(c, std::cout);
    return kExitOk;
  }
  if (!c.run) {  // a group without a known subcommand
    PrintHelp(c, std::cerr);
    return kExitUsage;
  }
  const std::vector<FlagSpec> specs = AllFlags(c);
  auto parsed = FlagSet(specs).Parse(rest);
  if (!parsed.ok()) return Fail(parsed.status().message(), kExitUsage);
  if (Status st = CheckUnsupported(specs, parsed->flags); !st.ok()) return Fail(st.message(), kExitUsage);
  if (auto late = FlagLikeArgs(parsed->args); !late.empty()) {
    std::string list;
    for (const auto& a : late) list += (list.empty() ? "" : " ") + a;
    std::cerr << "Command flags must be provided before positional arguments. The following arguments will not be "
                 "parsed as flags: ["
              << list << "]\n";
  }
  Invocation inv;
  inv.args = std::move(parsed->args);
  inv.flags = std::move(parsed->flags);
  auto out = OutputFrom(c, inv.flags);
  if (!out.ok()) return Fail(out.status().message(), kExitUsage);
  inv.out = *out;
  if (c.http) {
    auto conn = ConnectionFrom(inv.flags);
    if (!conn.ok()) return Fail(conn.status().message(), kExitUsage);
    inv.conn = *conn;
  }
  return c.run(inv);
}

}  // namespace

void SetHttpClient(std::shared_ptr<HttpClient> client) { SetClient(std::move(client)); }

int Run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    PrintTopUsage(std::cerr);
    return kExitUsage;
  }
  if (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
    PrintTopUsage(std::cout);
    return kExitOk;
  }
  size_t used = 0;
  const Command* c = Resolve(args, &used);
  if (!c) {
    std::cerr << "Unknown command: " << args[0] << "\n\n";
    PrintTopUsage(std::cerr);
    return 127;  // as the vault CLI
  }
  return RunCommand(*c, std::vector<std::string>(args.begin() + static_cast<std::ptrdiff_t>(used), args.end()));
}

}  // namespace sealbox::cli
