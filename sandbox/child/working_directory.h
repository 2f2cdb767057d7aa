#ifndef TOKENBOX_SANDBOX_CHILD_WORKING_DIRECTORY_H_
#define TOKENBOX_SANDBOX_CHILD_WORKING_DIRECTORY_H_

#include <cstdint>

#include "absl/status/status.h"
#include "sandbox/command.h"

namespace tokenbox {

// Enters the program's working directory, by path, with the sandbox's own credentials: the
// inherited one is an open reference, which could reach what the sandbox's user (`host_uid`)
// may not, such as a 0700 directory of root's. A directory the command names must be entered;
// the launcher's falls back to / when it cannot be.
absl::Status EnterWorkingDirectory(const Command& command, uint32_t host_uid);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CHILD_WORKING_DIRECTORY_H_
