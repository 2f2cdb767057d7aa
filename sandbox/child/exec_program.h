#ifndef TOKENBOX_SANDBOX_CHILD_EXEC_PROGRAM_H_
#define TOKENBOX_SANDBOX_CHILD_EXEC_PROGRAM_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace tokenbox {

// Execs `argv` with `environment` (each "KEY=VALUE"). argv[0] is a path, or a name searched in
// the environment's PATH (or the usual directories when it has none). Returns only when no
// execve succeeded, with the errno that counts and a remedy that says what is wrong: not found
// (naming the PATH directories `host_uid` cannot search), a missing #! interpreter or loader,
// not executable by `host_uid`, or not in an executable format.
absl::Status ExecProgram(const std::vector<std::string>& argv,
                         const std::vector<std::string>& environment, uint32_t host_uid);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CHILD_EXEC_PROGRAM_H_
