#include "sandbox/child_start.h"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "ns/errno_status.h"
#include "sandbox/protocol.h"
#include "sandbox/setup_step.h"

namespace tokenbox {
namespace {

// Gives the terminal's foreground to `pgid` when the launcher holds it, so that a sandbox in its
// own process group can still read the terminal; returns whether it did.
bool HandTerminalTo(pid_t pgid) {
  if (!isatty(STDIN_FILENO) || tcgetpgrp(STDIN_FILENO) != getpgrp()) return false;
  // tcsetpgrp from a process that is about to leave the foreground must not stop it.
  sighandler_t old = signal(SIGTTOU, SIG_IGN);
  bool handed = tcsetpgrp(STDIN_FILENO, pgid) == 0;
  signal(SIGTTOU, old);
  return handed;
}

absl::string_view StartNote(StartedAs started) {
  switch (started) {
    case StartedAs::kExec: return "program started (execve succeeded)";
    case StartedAs::kFunction: return "function started";
    case StartedAs::kZygote: return "fork server ready";
  }
  return "";
}

}  // namespace

Child ChildStart::Adopt(std::unique_ptr<ChildProcess> process) { return Child(std::move(process)); }

absl::StatusOr<Child> ChildStart::Await(const LauncherSteps& steps,
                                        std::unique_ptr<ChildProcess> process,
                                        bool shares_callers_terminal, int sock,
                                        ExpectedStart expect, absl::Duration setup_timeout,
                                        const std::function<absl::Status()>& handshake) {
  const pid_t pid = process->pid;
  // The pid is the caller's child and unreaped (a zygote clones with CLONE_PARENT), so it
  // cannot have been reused: the pidfd names that child.
  process->pidfd = UniqueFd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  const int pidfd_errno = errno;  // Before anything else can overwrite it.
  // The child makes its own group too, whichever is first.
  if (shares_callers_terminal) setpgid(pid, pid);
  process->owns_terminal = shares_callers_terminal && HandTerminalTo(pid);
  const bool has_pidfd = process->pidfd.valid();
  Child child(std::move(process));
  // On failure `child` goes out of scope, which kills and reaps it.
  if (!has_pidfd) return SetupFailure(SetupStep::kOpenPidfd, ErrnoStatus(pidfd_errno, "pidfd_open"));
  if (absl::Status s = handshake(); !s.ok()) return s;
  if (expect == ExpectedStart::kProgramWithOwnTerminal) {
    absl::StatusOr<UniqueFd> terminal = ReceiveOwnTerminal(sock, setup_timeout);
    if (!terminal.ok()) return terminal.status();
    child.process_->terminal = *std::move(terminal);
  }
  absl::StatusOr<StartedAs> started = AwaitStart(sock, setup_timeout);
  if (!started.ok()) return started.status();
  const bool expect_zygote = expect == ExpectedStart::kZygote;
  if ((*started == StartedAs::kZygote) != expect_zygote) {
    return SetupFailure(SetupStep::kWaitForStart,
                        absl::DataLossError(expect_zygote ? "the fork server did not report ready"
                                                          : "a launched child answered as a zygote"));
  }
  steps.Note(StartNote(*started));
  return child;
}

}  // namespace tokenbox
