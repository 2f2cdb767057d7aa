#ifndef TOKENBOX_TOOLS_DENY_SYSCALLS_OPTION_H_
#define TOKENBOX_TOOLS_DENY_SYSCALLS_OPTION_H_

#include <linux/filter.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tokenbox {

// `--deny-syscalls=NAME[:ERRNO],...`: a seccomp filter, built with libseccomp, under which each
// named system call fails with its errno (a name such as ENOSYS, or a number; EPERM when none is
// given) and every other is allowed, as classic BPF for SandboxBuilder::SeccompFilter().
absl::StatusOr<std::vector<sock_filter>> DenySyscallsFilter(const std::string& list);

}  // namespace tokenbox

#endif  // TOKENBOX_TOOLS_DENY_SYSCALLS_OPTION_H_
