#include "sandbox/child/parent_death.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"

namespace tokenbox {

absl::Status SetParentDeathSignal(std::optional<pid_t> expected_parent) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) {
    return ErrnoStatus(errno, "prctl(PR_SET_PDEATHSIG, SIGKILL)",
                       "a seccomp filter or security module around the launcher may forbid it");
  }
  if (pid_t parent = getppid(); expected_parent.has_value() && parent != *expected_parent) {
    return absl::AbortedError(absl::StrCat(
        "getppid() is ", parent, ", not the parent's pid ", *expected_parent,
        ": the parent died during set-up, and the sandbox ends with it (nothing to fix here; "
        "find out what killed the launcher)"));
  }
  return absl::OkStatus();
}

absl::Status SetParentDeathSignalWatching(int parent_socket) {
  if (absl::Status s = SetParentDeathSignal(std::nullopt); !s.ok()) return s;
  pollfd hangup = {.fd = parent_socket, .events = 0};
  if (poll(&hangup, 1, 0) > 0 && (hangup.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) {
    return absl::AbortedError(
        "the launcher's end of the handshake socket is closed: the launcher died during set-up, "
        "and the sandbox ends with it (nothing to fix here; find out what killed the launcher)");
  }
  return absl::OkStatus();
}

}  // namespace tokenbox
