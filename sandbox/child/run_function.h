#ifndef TOKENBOX_SANDBOX_CHILD_RUN_FUNCTION_H_
#define TOKENBOX_SANDBOX_CHILD_RUN_FUNCTION_H_

#include <functional>
#include <string>
#include <vector>

#include "sandbox/child/setup_reporter.h"

namespace tokenbox {

// Runs a command's function where a program would exec, and exits with its return value. There
// is no execve to close what ApplyFdLayout() marked close-on-exec or to replace the
// environment, so this does both: the function sees the fds a program would (`keep`: the
// reporter's socket, the token and the passed targets), `environment`, and nothing of the
// launcher's. It then tells the launcher that it started and closes its end of the socket.
[[noreturn]] void RunFunction(SetupReporter& reporter, const std::function<int()>& function,
                              const std::vector<int>& keep, std::vector<std::string> environment);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CHILD_RUN_FUNCTION_H_
