#include "ns/run_in_child.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/fd_passing.h"

namespace tokenbox {

namespace {

// Not a type any caller's conversation uses: the child's closing report.
constexpr uint32_t kChildReport = 0x7265706f;  // "repo"

}  // namespace

absl::Status RunInChild(const std::function<absl::Status(int sock)>& child_fn,
                        const std::function<absl::Status(pid_t pid, int sock)>& parent_fn,
                        absl::Duration timeout) {
  // One socketpair for the caller's conversation, one for the child's closing report. Apart, a
  // child that fails midway still reports why, even while the parent side waits for something
  // else, and that root cause wins over the parent's "peer closed".
  absl::StatusOr<SocketPair> talk = MakeSocketPair();
  if (!talk.ok()) return talk.status();
  absl::StatusOr<SocketPair> report_pair = MakeSocketPair();
  if (!report_pair.ok()) return report_pair.status();
  std::fflush(nullptr);  // Buffered output must not be written twice.
  pid_t pid = fork();
  if (pid < 0) return ErrnoStatus(errno, "fork");
  if (pid == 0) {
    // A crash must kill the child plainly. Crash handlers inherited from the parent (a test
    // framework's, a sanitizer's) would otherwise report from the child as if they were it.
    for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) signal(sig, SIG_DFL);
    talk->parent.Reset();
    report_pair->parent.Reset();
    absl::Status status = child_fn(talk->child.get());
    (void)SendFdMessage(report_pair->child.get(), kChildReport, SerializeStatus(status));
    _exit(0);  // Not exit(): the parent's atexit handlers and buffers are not the child's.
  }
  talk->child.Reset();
  report_pair->child.Reset();
  absl::Status parent_status = parent_fn ? parent_fn(pid, talk->parent.get()) : absl::OkStatus();
  // After a parent-side failure the child gets a moment to explain itself before it is killed.
  absl::StatusOr<FdMessage> report = ReceiveExpectedMessage(
      report_pair->parent.get(), kChildReport, 0,
      parent_status.ok() ? timeout : std::min(timeout, absl::Seconds(2)));
  if (!report.ok()) kill(pid, SIGKILL);
  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  absl::Status child_status = report.ok() ? DeserializeStatus(report->payload) : absl::OkStatus();
  if (!parent_status.ok()) return child_status.ok() ? parent_status : child_status;
  if (!report.ok()) {
    std::string how = WIFSIGNALED(wait_status)
                          ? absl::StrCat("killed by signal ", WTERMSIG(wait_status))
                          : absl::StrCat("exit code ", WEXITSTATUS(wait_status));
    return Annotate(report.status(), absl::StrCat("child ", pid, " did not report (", how, ")"));
  }
  return child_status;
}

absl::Status RunInChild(const std::function<absl::Status()>& fn, absl::Duration timeout) {
  return RunInChild([&fn](int) { return fn(); }, nullptr, timeout);
}

}  // namespace tokenbox
