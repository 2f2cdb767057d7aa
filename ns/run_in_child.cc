#include "ns/run_in_child.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/fd_passing.h"

namespace tokenbox {

absl::Status RunInChild(const std::function<absl::Status()>& fn, absl::Duration timeout) {
  absl::StatusOr<SocketPair> pair = MakeSocketPair();
  if (!pair.ok()) return pair.status();
  std::fflush(nullptr);  // Buffered output must not be written twice.
  pid_t pid = fork();
  if (pid < 0) return ErrnoStatus(errno, "fork");
  if (pid == 0) {
    // A crash must kill the child plainly. Crash handlers inherited from the parent (a test
    // framework's, a sanitizer's) would otherwise report from the child as if they were it.
    for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) signal(sig, SIG_DFL);
    pair->parent.Reset();
    absl::Status status = fn();
    (void)SendFdMessage(pair->child.get(), 0, SerializeStatus(status));
    _exit(0);  // Not exit(): the parent's atexit handlers and buffers are not the child's.
  }
  pair->child.Reset();
  absl::StatusOr<FdMessage> report = ReceiveFdMessage(pair->parent.get(), timeout);
  if (!report.ok()) kill(pid, SIGKILL);
  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  if (!report.ok()) {
    std::string how = WIFSIGNALED(wait_status)
                          ? absl::StrCat("killed by signal ", WTERMSIG(wait_status))
                          : absl::StrCat("exit code ", WEXITSTATUS(wait_status));
    return Annotate(report.status(), absl::StrCat("child ", pid, " did not report (", how, ")"));
  }
  return DeserializeStatus(report->payload);
}

}  // namespace tokenbox
