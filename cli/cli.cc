#include "cli/cli.h"

#include <cstdio>

namespace sealbox::cli {

int Run(int argc, char** argv) {
  std::fprintf(stderr, "Usage: sealbox <command> [args]\n\nCommands:\n    server     Start a Sealbox server\n    version    Print the version\n");
  return argc > 1 ? 1 : 2;
}

}  // namespace sealbox::cli
