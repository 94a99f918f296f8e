#include "cli/prompt.h"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <iostream>

namespace sealbox::cli {
namespace {

struct termios g_saved;  // the terminal as it was, for the signal handler

extern "C" void RestoreAndReraise(int sig) {
  tcsetattr(STDIN_FILENO, TCSANOW, &g_saved);  // async-signal-safe
  signal(sig, SIG_DFL);
  raise(sig);
}

// Echo off for its lifetime; the terminal is restored on return and on the
// signals that end the process while the prompt waits.
class EchoOff {
 public:
  EchoOff() {
    if (tcgetattr(STDIN_FILENO, &g_saved) != 0) return;
    struct termios quiet = g_saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) previous_[count_++] = {sig, signal(sig, RestoreAndReraise)};
    active_ = tcsetattr(STDIN_FILENO, TCSANOW, &quiet) == 0;
  }
  ~EchoOff() {
    if (active_) tcsetattr(STDIN_FILENO, TCSANOW, &g_saved);
    for (int i = 0; i < count_; ++i) signal(previous_[i].first, previous_[i].second);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  bool active_ = false;
  std::pair<int, sighandler_t> previous_[4];
  int count_ = 0;
};

}  // namespace

Result<std::string> ReadSecret(const std::string& prompt) {
  std::string line;
  if (!isatty(STDIN_FILENO)) {
    if (!std::getline(std::cin, line)) return InvalidArgument("no input on stdin");
  } else {
    bool ok;
    {
      // Echo goes off before the prompt shows, so nothing typed after the
      // prompt can be echoed; input typed ahead is kept (TCSANOW).
      EchoOff quiet;
      std::cerr << prompt << std::flush;
      ok = static_cast<bool>(std::getline(std::cin, line));
    }
    std::cerr << "\n";
    if (!ok) return InvalidArgument("no input");
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace sealbox::cli
