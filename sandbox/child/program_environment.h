#ifndef TOKENBOX_SANDBOX_CHILD_PROGRAM_ENVIRONMENT_H_
#define TOKENBOX_SANDBOX_CHILD_PROGRAM_ENVIRONMENT_H_

#include <string>
#include <vector>

#include "sandbox/command.h"
#include "sandbox/sandbox.h"

namespace tokenbox {

// The environment the program starts with: the command's, with where to find the token
// (sandbox/inside.h) in place of any such variables it had.
std::vector<std::string> ProgramEnvironment(const Sandbox& sandbox, const Command& command,
                                            int token_fd);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CHILD_PROGRAM_ENVIRONMENT_H_
