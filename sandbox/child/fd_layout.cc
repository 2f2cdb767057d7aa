#include "sandbox/child/fd_layout.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"

namespace tokenbox {

FdLayout PlanFdLayout(absl::Span<const int> passed_targets) {
  FdLayout plan;
  plan.passed_targets.assign(passed_targets.begin(), passed_targets.end());
  for (int target : passed_targets) plan.highest_target = std::max(plan.highest_target, target);
  auto taken = [&](int fd) {
    return std::find(passed_targets.begin(), passed_targets.end(), fd) != passed_targets.end();
  };
  while (taken(plan.token_target)) ++plan.token_target;
  return plan;
}

ProgramFds ProgramFdsOf(const Command& command, int own_terminal) {
  ProgramFds fds;
  for (const PassedFd& passed : command.passed_fds()) {
    fds.sources.push_back(passed.fd->get());
    fds.targets.push_back(passed.target);
  }
  if (own_terminal >= 0) {
    for (int target : {0, 1, 2}) {
      fds.sources.push_back(own_terminal);
      fds.targets.push_back(target);
    }
  }
  return fds;
}

absl::Status ApplyFdLayout(const FdLayout& plan, UniqueFd& token, absl::Span<const int> sources) {
  // Move the token and every source above all targets, so no dup2 below clobbers one of them.
  const int floor = plan.highest_target + 1;
  // EINVAL (a floor at or above the limit) or EMFILE: the fd limit, which the command's
  // --rlimit=nofile may have set, is below the numbers this needs on the way.
  const std::string too_few = absl::StrCat(
      "the fd limit (RLIMIT_NOFILE, as --rlimit=nofile sets it) is below what tokenbox must "
      "place: 0-2, the passed fds and the BPF token, moved above fd ", floor - 1,
      " on the way: allow at least ", floor + 1 + static_cast<int>(sources.size()));
  auto moving_failed = [&](absl::string_view call) {
    return errno == EINVAL || errno == EMFILE ? ErrnoStatus(errno, call, too_few)
                                              : ErrnoStatus(errno, call);
  };
  int moved_token = fcntl(token.get(), F_DUPFD_CLOEXEC, floor);
  if (moved_token < 0) return moving_failed("fcntl(token, F_DUPFD_CLOEXEC)");
  token.Reset(moved_token);
  std::vector<UniqueFd> moved;
  for (size_t i = 0; i < sources.size(); ++i) {
    int fd = fcntl(sources[i], F_DUPFD_CLOEXEC, floor);
    if (fd < 0) return moving_failed(absl::StrCat("fcntl(fd for ", plan.passed_targets[i], ")"));
    moved.emplace_back(fd);
  }
  if (syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) != 0) {
    return ErrnoStatus(errno, "close_range(3, ~0, CLOSE_RANGE_CLOEXEC)", "needs Linux >= 5.11");
  }
  for (size_t i = 0; i < moved.size(); ++i) {
    if (dup2(moved[i].get(), plan.passed_targets[i]) < 0) {
      return ErrnoStatus(errno, absl::StrCat("dup2(passed fd -> ", plan.passed_targets[i], ")"));
    }
  }
  if (plan.token_target != token.get()) {
    if (dup2(token.get(), plan.token_target) < 0) return ErrnoStatus(errno, "dup2(token)");
    token.Reset(plan.token_target);
  } else if (fcntl(plan.token_target, F_SETFD, 0) != 0) {
    return ErrnoStatus(errno, "fcntl(token, F_SETFD, 0)");
  }
  return absl::OkStatus();
}

absl::Status CloseFdsExcept(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned int first = 3;
  for (int fd : keep) {
    if (fd < 0 || static_cast<unsigned int>(fd) < first) continue;
    if (static_cast<unsigned int>(fd) > first &&
        syscall(SYS_close_range, first, static_cast<unsigned int>(fd) - 1, 0u) != 0) {
      return ErrnoStatus(errno, absl::StrCat("close_range(", first, ", ", fd - 1, ")"),
                         "needs Linux >= 5.9");
    }
    first = static_cast<unsigned int>(fd) + 1;
  }
  if (syscall(SYS_close_range, first, ~0u, 0u) != 0) {
    return ErrnoStatus(errno, absl::StrCat("close_range(", first, ", ~0)"), "needs Linux >= 5.9");
  }
  return absl::OkStatus();
}

}  // namespace tokenbox
