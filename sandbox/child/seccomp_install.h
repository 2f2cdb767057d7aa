#ifndef TOKENBOX_SANDBOX_CHILD_SECCOMP_INSTALL_H_
#define TOKENBOX_SANDBOX_CHILD_SECCOMP_INSTALL_H_

#include <linux/filter.h>

#include <vector>

#include "absl/status/status.h"

namespace tokenbox {

// Installs `filter` (classic BPF, as SandboxBuilder::SeccompFilter() takes it) on the calling
// process, the last step before exec, so that no set-up step runs under it. No new privileges
// must be set already (token/process_capabilities.h): then the kernel lets a process without
// CAP_SYS_ADMIN install it. A refusal's remedy follows the kernel's errno.
absl::Status InstallSeccompFilter(const std::vector<sock_filter>& filter);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CHILD_SECCOMP_INSTALL_H_
