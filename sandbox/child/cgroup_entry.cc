#include "sandbox/child/cgroup_entry.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "ns/errno_status.h"
#include "ns/unique_fd.h"

namespace tokenbox {
namespace {

absl::Status Enter(int dir_fd) {
  UniqueFd procs(openat(dir_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC));
  if (!procs) {
    return ErrnoStatus(errno, "open(cgroup.procs)",
                       "the child, still root, must be able to write its cgroup's cgroup.procs");
  }
  return ErrnoUnless(write(procs.get(), "0", 1) == 1, "write(cgroup.procs, 0)",
                     "a cgroup with controllers enabled for its children cannot take processes");
}

}  // namespace

absl::Status EnterCgroups(const std::vector<int>& dir_fds) {
  absl::Status entered;
  for (int dir_fd : dir_fds) {
    entered = Enter(dir_fd);
    if (!entered.ok()) break;
  }
  for (int fd : dir_fds) close(fd);
  return entered;
}

}  // namespace tokenbox
