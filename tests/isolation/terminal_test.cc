// The terminal tokenbox runs from: a sandbox must not type into it, nor take its foreground,
// nor leave its modes or stdio flags changed, and ^C (tokenbox forwards it) must still reach
// the program. Run under a real pseudo-terminal
// that a forked launcher holds as its controlling terminal.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <functional>
#include <string>

#include "absl/strings/str_cat.h"
#include "ns/pipe.h"
#include "ns/unique_fd.h"
#include "sandbox/fork_server.h"
#include "sandbox/launcher.h"
#include "tests/captured_run.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::Built;

// From inside, on stdin (the launcher's terminal): types into it (1), and makes itself its
// foreground (2); returns what worked. It also changes the terminal's modes and the status
// flags of the open file description it shares with the launcher, which it may: what matters
// is that the launcher finds both as they were once the sandbox is gone.
int TerminalAttack() {
  termios modes;
  if (tcgetattr(STDIN_FILENO, &modes) != 0) return 100;
  modes.c_lflag &= ~ISIG;
  modes.c_lflag |= ECHO;
  if (tcsetattr(STDIN_FILENO, TCSANOW, &modes) != 0) return 101;
  if (fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK | O_APPEND) != 0) {
    return 102;
  }
  int worked = 0;
  char typed = 'X';
  if (ioctl(STDIN_FILENO, TIOCSTI, &typed) == 0) worked |= 1;
  signal(SIGTTOU, SIG_IGN);
  if (setpgid(0, 0) == 0 && tcsetpgrp(STDIN_FILENO, getpgrp()) == 0) worked |= 2;
  return worked;
}

// Whether this kernel lets a process push input into its own controlling terminal
// (dev.tty.legacy_tiocsti); where it does not, TIOCSTI fails for everyone.
bool LegacyTiocstiAllowed() {
  std::ifstream legacy("/proc/sys/dev/tty/legacy_tiocsti");
  std::string allowed;
  legacy >> allowed;
  return allowed != "0";
}

struct TerminalAfter {
  int exit_code = -1;
  bool typed_into = false;       // The terminal had input waiting after the sandbox.
  bool foreground_kept = false;  // The launcher's group was still the terminal's foreground.
  bool modes_kept = false;       // The terminal's modes were as the launcher had set them.
  bool flags_kept = false;       // So were its stdin's file status flags.
};

// Forks a launcher whose controlling terminal (and stdin) is a fresh pseudo-terminal, runs
// TerminalAttack() there in `sandbox`, through Launch() or a fork server, and looks at the
// terminal afterwards.
TerminalAfter AttackTerminal(const Sandbox& sandbox, bool via_fork_server) {
  UniqueFd master(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  REQUIRE(master);
  REQUIRE(grantpt(master.get()) == 0);
  REQUIRE(unlockpt(master.get()) == 0);
  const std::string slave_path = ptsname(master.get());
  auto report = MakePipe();
  REQUIRE(report.ok());
  pid_t launcher = fork();
  REQUIRE(launcher >= 0);
  if (launcher == 0) {
    TerminalAfter after;
    // The first terminal a session leader opens becomes its controlling terminal.
    int slave = setsid() >= 0 ? open(slave_path.c_str(), O_RDWR) : -1;
    if (slave < 0 || dup2(slave, STDIN_FILENO) < 0 || tcgetpgrp(STDIN_FILENO) != getpgrp()) _exit(2);
    // Non-canonical, so that one typed byte is readable without a newline after it.
    termios modes;
    if (tcgetattr(STDIN_FILENO, &modes) != 0) _exit(2);
    modes.c_lflag &= ~(ICANON | ECHO);
    if (tcsetattr(STDIN_FILENO, TCSANOW, &modes) != 0) _exit(2);
    const int flags = fcntl(STDIN_FILENO, F_GETFL);
    absl::StatusOr<Child> child;
    std::unique_ptr<ForkServer> server;
    if (via_fork_server) {
      ForkServerOptions options;
      options.function = TerminalAttack;
      auto started = ForkServer::Start(sandbox, options);
      if (!started.ok()) _exit(3);
      server = *std::move(started);
      child = server->Launch(*CommandBuilder().ForkServerFunction().Build());
    } else {
      child = Launch(sandbox, *CommandBuilder().Function(TerminalAttack).Build());
    }
    if (!child.ok()) _exit(4);
    auto status = child->Wait();
    if (status.ok() && status->kind == ExitStatus::Kind::kExited) after.exit_code = status->code;
    after.foreground_kept = tcgetpgrp(STDIN_FILENO) == getpgrp();
    termios modes_after;
    after.modes_kept = tcgetattr(STDIN_FILENO, &modes_after) == 0 &&
                       modes_after.c_lflag == modes.c_lflag;
    after.flags_kept = fcntl(STDIN_FILENO, F_GETFL) == flags;
    // Back in the foreground (a background group cannot read its terminal), then read.
    signal(SIGTTOU, SIG_IGN);
    (void)tcsetpgrp(STDIN_FILENO, getpgrp());
    fcntl(STDIN_FILENO, F_SETFL, O_NONBLOCK);
    char waiting;
    after.typed_into = read(STDIN_FILENO, &waiting, 1) == 1;
    (void)!write(report->write_end.get(), &after, sizeof(after));
    _exit(0);
  }
  report->write_end.Reset();
  TerminalAfter after;
  CHECK(read(report->read_end.get(), &after, sizeof(after)) == sizeof(after));
  int status = 0;
  REQUIRE(waitpid(launcher, &status, 0) == launcher);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  return after;
}

TEST_CASE("The program can neither type into the launcher's terminal nor take its foreground") {
  TB_REQUIRE_PRIVILEGE();
  if (!LegacyTiocstiAllowed()) MESSAGE("this kernel refuses TIOCSTI to everyone; the attack proves less");
  for (testing::PidMode mode : testing::kEveryPidMode) {
    for (bool via_fork_server : {false, true}) {
      INFO(testing::PidModeName(mode));
      CAPTURE(via_fork_server);
      TerminalAfter after = AttackTerminal(Built(testing::DemoSandbox(mode)), via_fork_server);
      CHECK(after.exit_code == 0);
      CHECK_FALSE(after.typed_into);
      CHECK(after.foreground_kept);
      CHECK(after.modes_kept);
      CHECK(after.flags_kept);
    }
  }
}

// What ShareSession() (--share-session) gives up, so that the default cannot change unnoticed.
TEST_CASE("Sharing the launcher's session, the program types into its terminal and takes it") {
  TB_REQUIRE_PRIVILEGE();
  const bool tiocsti = LegacyTiocstiAllowed();
  SandboxBuilder sandbox = testing::DemoSandbox();
  sandbox.ShareSession();
  TerminalAfter after = AttackTerminal(Built(sandbox), /*via_fork_server=*/false);
  CHECK(after.exit_code == (tiocsti ? 3 : 2));
  CHECK(after.typed_into == tiocsti);
  CHECK_FALSE(after.foreground_kept);
  // Modes and flags are put back whatever the session.
  CHECK(after.modes_kept);
  CHECK(after.flags_kept);
}

// In a session of its own the terminal cannot reach the program: SIGINT and the like come from
// tokenbox (which forwards them) to the sandbox's first process, and must go on to the program.
TEST_CASE("SIGINT sent to the sandbox reaches the program, which may handle it") {
  TB_REQUIRE_PRIVILEGE();
  for (testing::PidMode mode : testing::kEveryPidMode) {
    INFO(testing::PidModeName(mode));
    auto ready = MakePipe();
    REQUIRE(ready.ok());
    CommandBuilder command = testing::ProgramCommand(
        {"/bin/sh", "-c", "trap 'exit 3' INT; echo ready >&5; while :; do sleep 0.05; done"});
    command.PassFd(ready->write_end.get(), 5);
    auto child = Launch(Built(testing::DemoSandbox(mode)), Built(command));
    REQUIRE(child.ok());
    command = CommandBuilder();
    ready->write_end.Reset();
    char line[6];
    REQUIRE(read(ready->read_end.get(), line, sizeof(line)) == sizeof(line));
    REQUIRE(kill(child->pid(), SIGINT) == 0);
    CHECK(*child->WaitFor(absl::Seconds(20)) == ExitStatus::Exited(3));
  }
}

}  // namespace
}  // namespace tokenbox
