#include "sandbox/caller_stdio.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace tokenbox {
namespace {

bool SameModes(const termios& a, const termios& b) {
  return a.c_iflag == b.c_iflag && a.c_oflag == b.c_oflag && a.c_cflag == b.c_cflag &&
         a.c_lflag == b.c_lflag && std::memcmp(a.c_cc, b.c_cc, sizeof(a.c_cc)) == 0;
}

// A background job that sets its terminal's modes is stopped by SIGTTOU unless it blocks the
// signal; blocked in this thread alone, it leaves the caller's handlers and other threads be.
void SetModes(int fd, const termios& modes) {
  sigset_t ttou;
  sigset_t old;
  sigemptyset(&ttou);
  sigaddset(&ttou, SIGTTOU);
  pthread_sigmask(SIG_BLOCK, &ttou, &old);
  (void)tcsetattr(fd, TCSANOW, &modes);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

}  // namespace

CallerStdio CallerStdio::Save(const std::vector<int>& fds) {
  CallerStdio stdio;
  for (int fd : fds) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) continue;  // Not open: nothing to share.
    Saved saved{fd, flags, std::nullopt};
    termios modes;
    if (tcgetattr(fd, &modes) == 0) saved.modes = modes;  // ENOTTY for all but terminals.
    stdio.saved_.push_back(saved);
  }
  return stdio;
}

CallerStdio CallerStdio::All() { return Save({STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}); }

CallerStdio CallerStdio::SharedWith(const Command& command) {
  std::vector<int> fds;
  for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
    const bool replaced = std::any_of(command.passed_fds().begin(), command.passed_fds().end(),
                                      [fd](const PassedFd& passed) { return passed.target == fd; });
    if (!replaced) fds.push_back(fd);
  }
  return Save(fds);
}

void CallerStdio::Restore() const {
  for (const Saved& saved : saved_) {
    // Only the flags F_SETFL can change; the access mode stays what it is.
    const int settable = O_APPEND | O_ASYNC | O_DIRECT | O_NOATIME | O_NONBLOCK;
    int now = fcntl(saved.fd, F_GETFL);
    if (now >= 0 && (now & settable) != (saved.status_flags & settable)) {
      (void)fcntl(saved.fd, F_SETFL, (now & ~settable) | (saved.status_flags & settable));
    }
    termios modes;
    if (saved.modes.has_value() && tcgetattr(saved.fd, &modes) == 0 &&
        !SameModes(modes, *saved.modes)) {
      SetModes(saved.fd, *saved.modes);
    }
  }
}

}  // namespace tokenbox
