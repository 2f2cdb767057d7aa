#ifndef TOKENBOX_SANDBOX_CHILD_PARENT_DEATH_H_
#define TOKENBOX_SANDBOX_CHILD_PARENT_DEATH_H_

#include <sys/types.h>

#include <optional>

#include "absl/status/status.h"

namespace tokenbox {

// Makes the calling process die with its parent (PR_SET_PDEATHSIG, SIGKILL). Set it after the
// last credential change: unshare and setresuid clear it. A parent that died before this took
// hold went unnoticed, so the parent is then checked to be `expected_parent` still, as getppid()
// sees it; nullopt where getppid() cannot tell (pid 1 of a new pid namespace sees 0).
absl::Status SetParentDeathSignal(std::optional<pid_t> expected_parent);

// The same for pid 1 of a pid namespace whose parent is outside it, where getppid() tells
// nothing: the parent is alive still if its end of `parent_socket` is open.
absl::Status SetParentDeathSignalWatching(int parent_socket);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CHILD_PARENT_DEATH_H_
