#ifndef TOKENBOX_SANDBOX_KERNEL_PATH_H_
#define TOKENBOX_SANDBOX_KERNEL_PATH_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace tokenbox {

// Adds a problem to `problems` unless `path` is one the child can hand to the kernel: absolute,
// shorter than PATH_MAX, no NUL byte. A builder refuses such a path at Build(), rather than the
// kernel half-way into set-up. `what` names the path in the message.
void CheckKernelPath(absl::string_view what, absl::string_view path,
                     std::vector<std::string>& problems);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_KERNEL_PATH_H_
