#ifndef TOKENBOX_SANDBOX_CHILD_RESOURCE_LIMITS_H_
#define TOKENBOX_SANDBOX_CHILD_RESOURCE_LIMITS_H_

#include <vector>

#include "absl/status/status.h"
#include "sandbox/command.h"

namespace tokenbox {

// Sets the command's resource limits on the calling process, which the program inherits. A hard
// limit can only be lowered: the child holds no CAP_SYS_RESOURCE on the host.
absl::Status SetResourceLimits(const std::vector<ResourceLimit>& limits);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CHILD_RESOURCE_LIMITS_H_
