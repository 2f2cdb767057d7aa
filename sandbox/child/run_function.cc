#include "sandbox/child/run_function.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "ns/fd_passing.h"
#include "sandbox/child/fd_layout.h"
#include "sandbox/protocol.h"

namespace tokenbox {

void RunFunction(SetupReporter& reporter, const std::function<int()>& function,
                 const std::vector<int>& keep, std::vector<std::string> environment) {
  reporter.Step(SetupStep::kCloseFdsNotPassed, CloseFdsExcept(keep));
  clearenv();
  // putenv() keeps the strings themselves: `environment` lives until the process exits.
  for (std::string& entry : environment) putenv(entry.data());
  (void)SendFdMessage(reporter.sock(), kFunctionStarted);
  reporter.CloseSocket();
  std::fflush(nullptr);
  const int code = function();
  std::fflush(nullptr);
  _exit(code);
}

}  // namespace tokenbox
