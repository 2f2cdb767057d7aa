#ifndef TOKENBOX_SANDBOX_CHILD_FD_LAYOUT_H_
#define TOKENBOX_SANDBOX_CHILD_FD_LAYOUT_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "ns/unique_fd.h"
#include "sandbox/command.h"

namespace tokenbox {

// Where the program's fds go: 0-2 stay as they are, each passed fd goes to its target, and the
// token to the lowest number that is neither. Computed first, then applied, so that the plan
// can be checked without a process to apply it to.
struct FdLayout {
  std::vector<int> passed_targets;  // In the order the sources are given to ApplyFdLayout.
  int token_target = 3;
  int highest_target = 2;           // Every source is moved above it before any dup2.
};
FdLayout PlanFdLayout(absl::Span<const int> passed_targets);

// What the program is passed: the command's fds, and a terminal of the sandbox's own (when
// `own_terminal` is valid) as 0, 1 and 2; each source with its target, in plan order.
struct ProgramFds {
  std::vector<int> sources;
  std::vector<int> targets;
};
ProgramFds ProgramFdsOf(const Command& command, int own_terminal);

// Puts `token` and `sources` (in plan order) where `plan` says, and marks every other fd above
// 2 close-on-exec, so that execve leaves the program exactly the planned fds. `token` then owns
// the token at its target.
absl::Status ApplyFdLayout(const FdLayout& plan, UniqueFd& token, absl::Span<const int> sources);

// For a function, which has no execve to close what ApplyFdLayout marked: closes every fd above
// 2 but `keep`.
absl::Status CloseFdsExcept(std::vector<int> keep);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CHILD_FD_LAYOUT_H_
