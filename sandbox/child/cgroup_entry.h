#ifndef TOKENBOX_SANDBOX_CHILD_CGROUP_ENTRY_H_
#define TOKENBOX_SANDBOX_CHILD_CGROUP_ENTRY_H_

#include <vector>

#include "absl/status/status.h"

namespace tokenbox {

// The child, still root and before its cgroup namespace exists (whose root is the cgroup the
// child is in when it is made): moves itself into the sandbox's cgroups, whose directories
// `dir_fds` are (sandbox/host_resources/sandbox_cgroup.h), and closes them.
absl::Status EnterCgroups(const std::vector<int>& dir_fds);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CHILD_CGROUP_ENTRY_H_
