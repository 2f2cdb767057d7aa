// Launches one sandbox through the library (Launch(), or a fork server with --via-fork-server)
// and reports what the launch left behind, for the fault-injection test to run under
// `strace --inject`: the launcher's open fds before and after, whether any child is left
// (running or zombie), and the error.
#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>

#include "sandbox/fork_server.h"
#include "sandbox/launcher.h"
#include "tests/process_state.h"
#include "tools/run_support.h"

int main(int argc, char** argv) {
  const bool via_fork_server = argc > 1 && std::string(argv[1]) == "--via-fork-server";
  if (via_fork_server) {
    ++argv;
    --argc;
  }
  if (argc < 3 || (std::string(argv[1]) != "--pid" && std::string(argv[1]) != "--no-pid")) {
    std::fprintf(stderr, "usage: fault_target [--via-fork-server] --pid|--no-pid PROGRAM [ARGS...]\n");
    return 2;
  }
  auto policy = tokenbox::ParseDelegationPolicy("map_create", "array", "", "");
  tokenbox::ExtraNamespaces namespaces;
  namespaces.pid = std::string(argv[1]) == "--pid";
  auto spec = tokenbox::SandboxBuilder()
                  .Program(std::vector<std::string>(argv + 2, argv + argc))
                  .Policy(*policy)
                  .Namespaces(namespaces)
                  .Build();
  if (!spec.ok()) return 2;
  const int fds_before = tokenbox::testing::CountOpenFds();
  std::string result;
  {
    std::unique_ptr<tokenbox::ForkServer> fork_server;
    auto child = tokenbox::LaunchOnce(*spec, {}, via_fork_server ? &fork_server : nullptr);
    if (child.ok()) {
      auto status = child->Wait();
      result = status.ok() ? status->ToString() : std::string(status.status().message());
    } else {
      result = std::string(child.status().message());
    }
  }
  const int fds_after = tokenbox::testing::CountOpenFds();
  errno = 0;
  const bool children_left = !(waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD);
  std::printf("fds_before=%d\nfds_after=%d\nchildren_left=%d\nresult=%s\n", fds_before, fds_after,
              children_left, result.c_str());
  return 0;
}
