#ifndef TOKENBOX_SANDBOX_EXIT_STATUS_H_
#define TOKENBOX_SANDBOX_EXIT_STATUS_H_

#include <string>

namespace tokenbox {

// How a sandbox ended.
struct ExitStatus {
  enum class Kind { kExited, kSignaled, kTimedOut };
  Kind kind = Kind::kExited;
  int code = 0;    // kExited: the exit code.
  int signal = 0;  // kSignaled: the signal that killed it.

  static ExitStatus Exited(int code) { return {Kind::kExited, code, 0}; }
  static ExitStatus Signaled(int signal) { return {Kind::kSignaled, 0, signal}; }
  static ExitStatus TimedOut() { return {Kind::kTimedOut, 0, 0}; }

  // The shell's convention, which `tokenbox run` exits with: the code, 128+N for signal N, 124
  // for a timeout (as timeout(1) does).
  int ShellExitCode() const;
  // "exited with code 3", "killed by signal 9 (SIGKILL)", "timed out and killed".
  std::string ToString() const;

  friend bool operator==(const ExitStatus& a, const ExitStatus& b) {
    return a.kind == b.kind && a.code == b.code && a.signal == b.signal;
  }
};

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_EXIT_STATUS_H_
