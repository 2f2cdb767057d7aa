#include "sandbox/child/zygote.h"

#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/fd_passing.h"
#include "sandbox/command_codec.h"
#include "sandbox/child/fd_layout.h"
#include "sandbox/child/parent_death.h"
#include "sandbox/child/signals.h"
#include "sandbox/protocol.h"

namespace tokenbox {
namespace {

absl::StatusOr<std::string> ReadAll(int fd) {
  std::string bytes;
  char buffer[16384];
  for (off_t offset = 0;;) {
    ssize_t n = pread(fd, buffer, sizeof(buffer), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, "pread(command memfd)");
    if (n == 0) return bytes;
    bytes.append(buffer, static_cast<size_t>(n));
    offset += n;
  }
}

// Forks one launch; the reply to the launcher is its pid, or why there is none.
void ServeLaunch(const Sandbox& sandbox, const std::function<int()>& function,
                 const ChildContext& context, SetupReporter& reporter, UniqueFd& token,
                 FdMessage& request) {
  auto refuse = [&](const absl::Status& status) {
    (void)SendFdMessage(reporter.sock(), kSetupFailed,
                        EncodeSetupFailure(SetupFailure(SetupStep::kForkFromForkServer, status)));
  };
  if (request.type != kZygoteLaunch || request.fds.size() < 2) {
    return refuse(absl::DataLossError(
        absl::StrCat("fork server: expected a launch request, got message ", request.type)));
  }
  absl::StatusOr<std::string> bytes = ReadAll(request.fds[0].get());
  if (!bytes.ok()) return refuse(bytes.status());
  UniqueFd report = std::move(request.fds[1]);
  // With a pid namespace per launch, where its pid 1 reports the program's wait status.
  const bool own_pid_namespace = sandbox.namespaces().pid;
  if (own_pid_namespace && request.fds.size() < 3) {
    return refuse(absl::DataLossError("fork server: a launch request without its status pipe"));
  }
  UniqueFd program_status = own_pid_namespace ? std::move(request.fds[2]) : UniqueFd();
  std::vector<UniqueFd> passed;
  for (size_t i = own_pid_namespace ? 3 : 2; i < request.fds.size(); ++i) {
    passed.push_back(std::move(request.fds[i]));
  }
  absl::StatusOr<Command> command = CommandCodec::Decode(*bytes, std::move(passed));
  if (!command.ok()) return refuse(command.status());
  absl::StatusOr<LaunchRequest> launch = DecodeLaunchRequest(request.payload);
  if (!launch.ok()) return refuse(launch.status());
  // ForkServer::Launch() refuses this with the reason; a child here would call nothing.
  if (command->kind() == Command::Kind::kForkServerFunction && !function) {
    return refuse(absl::FailedPreconditionError("fork server: no function to run"));
  }
  // CLONE_PARENT: the launcher, not the zygote, becomes the parent, so it can wait on the child
  // through a pidfd like on any other sandbox. CLONE_NEWPID: the child is pid 1 of a namespace
  // of its own (sandbox/child/pid_namespace_init.h). The zygote is single-threaded, so a raw clone is
  // as safe as fork here. The signals pid 1 relays stay blocked until it can relay them.
  const int flags = CLONE_PARENT | SIGCHLD | (own_pid_namespace ? CLONE_NEWPID : 0);
  sigset_t previous;
  if (own_pid_namespace) previous = BlockRelayedSignals();
  pid_t pid = static_cast<pid_t>(syscall(SYS_clone, flags, nullptr, nullptr, nullptr, nullptr));
  const int clone_errno = errno;
  if (pid != 0 && own_pid_namespace) pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (pid < 0 && own_pid_namespace) {
    return refuse(ErrnoStatus(clone_errno, "clone(CLONE_PARENT | CLONE_NEWPID)",
                              "check /proc/sys/user/max_pid_namespaces, or start the fork "
                              "server without a pid namespace"));
  }
  if (pid < 0) return refuse(ErrnoStatus(clone_errno, "clone(CLONE_PARENT)"));
  if (pid == 0) {
    reporter.CloseSocket();
    ChildContext launch_context{context.launcher_pid, context.progress_fd, launch->started,
                                context.setup_timeout};
    launch_context.deadline = LaunchDeadline(launch->started, command->timeout());
    launch_context.await_launch_cgroup = launch->into_cgroup;
    launch_context.forked_as_pid1 = own_pid_namespace;
    launch_context.program_status_fd = program_status.get();
    RunForkedCommand(sandbox, *command, function, launch_context, std::move(report),
                     std::move(token));
  }
  (void)SendFdMessage(reporter.sock(), kZygoteLaunched, EncodePid(pid));
}

}  // namespace

void ServeLaunches(const Sandbox& sandbox, const std::function<int()>& function,
                   const ChildContext& context, SetupReporter& reporter, UniqueFd token) {
  reporter.Step(SetupStep::kSetParentDeathSignal, SetParentDeathSignal(context.launcher_pid));
  // The zygote never execs: without this it would hold every fd the launcher had when the fork
  // server started (a pipe's write end, whose reader then never sees end-of-file) for as long
  // as it serves, and hand them all to each launch.
  reporter.Step(SetupStep::kCloseFdsNotPassed, CloseFdsExcept({reporter.sock(), token.get()}));
  reporter.Step(SetupStep::kStartForkServer, SendFdMessage(reporter.sock(), kZygoteReady));
  for (;;) {
    absl::StatusOr<FdMessage> request = ReceiveFdMessage(reporter.sock());
    if (!request.ok()) _exit(0);  // The launcher closed the fork server, or died.
    ServeLaunch(sandbox, function, context, reporter, token, *request);
  }
}

}  // namespace tokenbox
