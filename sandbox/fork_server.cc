#include "sandbox/fork_server.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "ns/errno_status.h"
#include "ns/fd_passing.h"
#include "ns/monotonic_clock.h"
#include "sandbox/handshake.h"
#include "sandbox/launch_request.h"

namespace tokenbox {
namespace {

constexpr absl::Duration kReplyTimeout = absl::Seconds(30);

// The encoded request goes in a memfd: an environment easily outgrows one message.
absl::StatusOr<UniqueFd> RequestMemfd(const std::string& bytes) {
  UniqueFd memfd(memfd_create("tokenbox-launch", MFD_CLOEXEC));
  if (!memfd) return ErrnoStatus(errno, "memfd_create");
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = write(memfd.get(), bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, "write(launch request memfd)");
    written += static_cast<size_t>(n);
  }
  return memfd;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ForkServer>> ForkServer::Start(const SandboxSpec& sandbox,
                                                              const LaunchOptions& options) {
  absl::StatusOr<ZygoteHandle> zygote = LaunchZygote(sandbox, options);
  if (!zygote.ok()) return zygote.status();
  return std::unique_ptr<ForkServer>(new ForkServer(sandbox, *std::move(zygote)));
}

ForkServer::~ForkServer() {
  sock_.Reset();  // The zygote exits when its socket closes; ~Child kills and reaps it anyway.
}

absl::StatusOr<Child> ForkServer::Launch(const SandboxSpec& launch) {
  if (launch.passed_fds().size() + 2 > kMaxMessageFds) {
    return absl::InvalidArgumentError(absl::StrCat("a fork-server launch passes at most ",
                                                   kMaxMessageFds - 2, " fds"));
  }
  absl::StatusOr<UniqueFd> request = RequestMemfd(LaunchRequestCodec::Encode(launch));
  if (!request.ok()) return SetupFailure("send launch request", request.status());
  absl::StatusOr<SocketPair> report = MakeSocketPair();
  if (!report.ok()) return SetupFailure("send launch request", report.status());
  std::vector<int> fds = {request->get(), report->child.get()};
  for (const PassedFd& passed : launch.passed_fds()) fds.push_back(passed.fd->get());

  pid_t pid = -1;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (absl::Status s = SendFdMessage(sock_.get(), kZygoteLaunch, "", fds); !s.ok()) {
      return SetupFailure("send launch request", s);
    }
    absl::StatusOr<FdMessage> reply =
        ReceiveExpectedMessage(sock_.get(), kZygoteLaunched, 0, kReplyTimeout);
    if (!reply.ok()) return SetupFailure("receive launch reply", reply.status());
    absl::string_view payload = reply->payload;
    if (absl::ConsumePrefix(&payload, "E")) {
      return SetupFailure("fork from the fork server", DeserializeStatus(payload));
    }
    if (!absl::ConsumePrefix(&payload, "P") || !absl::SimpleAtoi(payload, &pid) || pid <= 0) {
      return SetupFailure("receive launch reply",
                          absl::DataLossError(absl::StrCat("bad reply '", Printable(reply->payload), "'")));
    }
  }
  report->child.Reset();
  // The zygote cloned with CLONE_PARENT: the child is ours, unreaped, so the pid names it.
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  const int pidfd_errno = errno;
  std::optional<absl::Duration> deadline;
  if (launch.timeout().has_value()) deadline = MonotonicNow() + *launch.timeout();
  Child child(pid, std::move(pidfd), /*kill_process_group=*/true, deadline, /*owns_terminal=*/false);
  if (!child.pidfd_) {
    (void)kill(-pid, SIGKILL);
    (void)child.Reap(false);
    return SetupFailure("open pidfd", ErrnoStatus(pidfd_errno, "pidfd_open"));
  }
  absl::StatusOr<StartedAs> started = AwaitStart(report->parent.get(), kReplyTimeout);
  absl::Status failure = started.status();
  if (started.ok() && *started == StartedAs::kZygote) {
    failure = SetupFailure("wait for the program to start",
                           absl::DataLossError("a launched child answered as a zygote"));
  }
  if (!failure.ok()) {
    (void)child.Kill();
    (void)child.Reap(false);
    return failure;
  }
  return child;
}

}  // namespace tokenbox
