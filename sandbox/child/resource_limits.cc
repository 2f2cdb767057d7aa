#include "sandbox/child/resource_limits.h"

#include <sys/resource.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"

namespace tokenbox {

absl::Status SetResourceLimits(const std::vector<ResourceLimit>& limits) {
  for (const ResourceLimit& limit : limits) {
    rlimit value = {limit.soft, limit.hard};
    if (setrlimit(limit.resource, &value) != 0) {
      return ErrnoStatus(errno, absl::StrCat("setrlimit(", limit.resource, ", ", limit.soft, ", ",
                                             limit.hard, ")"),
                         "a hard limit can only be lowered");
    }
  }
  return absl::OkStatus();
}

}  // namespace tokenbox
