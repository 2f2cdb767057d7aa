#include "sandbox/command.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "tests/test_support.h"

namespace tokenbox {
namespace {

TEST_CASE("The command builder reports every inconsistency at Build(), not at launch") {
  auto nothing = CommandBuilder().Build();
  REQUIRE_FALSE(nothing.ok());
  CHECK(std::string(nothing.status().message()).find("nothing to run") != std::string::npos);
  auto both = CommandBuilder().Program({"/bin/true"}).Function([] { return 0; }).Build();
  REQUIRE_FALSE(both.ok());
  CHECK(std::string(both.status().message()).find("give one") != std::string::npos);
  auto bad = CommandBuilder()
                 .Program({"/bin/true"})
                 .WorkingDirectory("also/relative")
                 .Timeout(absl::ZeroDuration())
                 .ResourceLimitOf(RLIMIT_NOFILE, 10, 5)
                 .SetEnv("BAD=KEY", "x")
                 .PassFd(0, 5)
                 .PassFd(1, 5)
                 .Build();
  REQUIRE_FALSE(bad.ok());
  std::string message(bad.status().message());
  for (const char* fault : {"invalid command: ", "working directory 'also/relative'",
                            "timeout 0 must be positive", "soft 10 exceeds hard 5",
                            "'BAD=KEY' is invalid", "two fds are passed at fd 5"}) {
    INFO(fault);
    CHECK(message.find(fault) != std::string::npos);
  }
  auto nul = CommandBuilder().Program({"/bin/true"}).WorkingDirectory(std::string("/tmp\0x", 6)).Build();
  REQUIRE_FALSE(nul.ok());
  CHECK(std::string(nul.status().message()).find("working directory '/tmp\\x00x' contains a NUL byte") !=
        std::string::npos);
  CHECK_FALSE(CommandBuilder().Program({""}).Build().ok());
  int not_a_terminal[2];
  REQUIRE(pipe(not_a_terminal) == 0);
  auto terminal = CommandBuilder().Program({"/bin/true"}).Terminal(not_a_terminal[0]).Build();
  close(not_a_terminal[0]);
  close(not_a_terminal[1]);
  REQUIRE_FALSE(terminal.ok());
  CHECK(std::string(terminal.status().message()).find("is not a terminal") != std::string::npos);
  // The sandbox's own terminal is fds 0-2: nothing else may be passed there.
  auto terminal_twice = CommandBuilder()
                            .Program({"/bin/true"})
                            .OwnTerminal(winsize{})
                            .PassFd(STDERR_FILENO, 1)
                            .Build();
  REQUIRE_FALSE(terminal_twice.ok());
  CHECK(std::string(terminal_twice.status().message())
            .find("fd 1 is passed, and also the sandbox's own terminal") != std::string::npos);
  auto own = CommandBuilder().Program({"/bin/true"}).OwnTerminal(winsize{24, 80, 0, 0}).Build();
  TB_REQUIRE_OK(own);
  REQUIRE(own->own_terminal().has_value());
  CHECK(own->own_terminal()->ws_col == 80);
  CHECK(own->controlling_terminal());
}

TEST_CASE("The environment is the launcher's, changed in any order; ClearEnvironment starts empty") {
  setenv("TOKENBOX_COMMAND_TEST", "inherited", 1);
  auto inherited = CommandBuilder().Program({"/bin/true"}).SetEnv("ADDED", "1").Build();
  TB_REQUIRE_OK(inherited);
  const auto& env = inherited->environment();
  CHECK(std::find(env.begin(), env.end(), "TOKENBOX_COMMAND_TEST=inherited") != env.end());
  CHECK(std::find(env.begin(), env.end(), "ADDED=1") != env.end());
  auto cleared = CommandBuilder().Program({"/bin/true"}).SetEnv("ONLY", "this").ClearEnvironment().Build();
  TB_REQUIRE_OK(cleared);
  CHECK(cleared->environment() == std::vector<std::string>{"ONLY=this"});
}

}  // namespace
}  // namespace tokenbox
