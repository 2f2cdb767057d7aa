// `tokenbox run --pty`, run from a real terminal (a pseudo-terminal this test holds): the program
// gets a terminal of its own that tokenbox relays, and tokenbox's terminal is out of its reach.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ns/unique_fd.h"
#include "tests/command_runner.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::Contains;

const std::vector<std::string> kPolicy = {"--delegate-cmds=map_create", "--delegate-maps=array"};

struct TerminalRun {
  int exit_code = -1;
  std::string output;             // All tokenbox wrote to its terminal.
  bool modes_kept = false;        // tokenbox's terminal's modes were as before, afterwards.
  bool input_left = false;        // Input was waiting on tokenbox's terminal afterwards.
};

// Runs `tokenbox run --pty OPTIONS -- PROGRAM` with a fresh pseudo-terminal (33 rows, 101
// columns) as its controlling terminal and stdio, types `input` into it once the program has
// written `ready` (what is typed earlier is tokenbox's terminal's, not yet the program's), and
// reads what it writes until it exits.
TerminalRun RunOnTerminal(const std::vector<std::string>& options,
                          const std::vector<std::string>& program, const std::string& ready,
                          const std::string& input) {
  UniqueFd master(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  REQUIRE(master);
  REQUIRE(grantpt(master.get()) == 0);
  REQUIRE(unlockpt(master.get()) == 0);
  const std::string secondary_path = ptsname(master.get());
  winsize size = {};
  size.ws_row = 33;
  size.ws_col = 101;
  REQUIRE(ioctl(master.get(), TIOCSWINSZ, &size) == 0);
  UniqueFd secondary(open(secondary_path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC));
  REQUIRE(secondary);
  termios before;
  REQUIRE(tcgetattr(secondary.get(), &before) == 0);

  std::vector<std::string> argv = {"tools/tokenbox", "run", "--pty"};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.insert(argv.end(), kPolicy.begin(), kPolicy.end());
  argv.push_back("--");
  argv.insert(argv.end(), program.begin(), program.end());
  std::vector<char*> args;
  for (std::string& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // A session leader's first terminal opened is its controlling terminal.
    int fd = setsid() >= 0 ? open(secondary_path.c_str(), O_RDWR) : -1;
    if (fd < 0) _exit(120);
    for (int target : {0, 1, 2}) dup2(fd, target);
    execv(args[0], args.data());
    _exit(121);
  }
  TerminalRun run;
  bool typed = input.empty();
  // Read until tokenbox has exited and nothing more comes.
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  int status = 0;
  bool exited = false;
  while (absl::Now() < give_up) {
    pollfd pfd = {master.get(), POLLIN, 0};
    if (poll(&pfd, 1, 50) > 0) {
      char buffer[4096];
      ssize_t n = read(master.get(), buffer, sizeof(buffer));
      if (n > 0) {
        run.output.append(buffer, static_cast<size_t>(n));
        if (!typed && Contains(run.output, ready)) {
          typed = write(master.get(), input.data(), input.size()) ==
                  static_cast<ssize_t>(input.size());
        }
        continue;
      }
    }
    if (exited) break;
    exited = waitpid(pid, &status, WNOHANG) == pid;
  }
  if (!exited) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  termios after;
  run.modes_kept = tcgetattr(secondary.get(), &after) == 0 && after.c_lflag == before.c_lflag &&
                   after.c_iflag == before.c_iflag && after.c_oflag == before.c_oflag;
  int waiting = 0;
  run.input_left = ioctl(secondary.get(), FIONREAD, &waiting) == 0 && waiting > 0;
  return run;
}

const std::vector<std::string> kLaunchWays[] = {{}, {"--via-fork-server"}, {"--no-unshare-pid"},
                                                {"--as-pid1"}};

TEST_CASE("--pty: the program's stdio is a terminal of its own, its controlling terminal") {
  TB_REQUIRE_PRIVILEGE();
  for (const std::vector<std::string>& way : kLaunchWays) {
    CAPTURE(way.empty() ? "" : way[0]);
    TerminalRun run = RunOnTerminal(
        way,
        {"/bin/sh", "-c",
         "test -t 0 && test -t 1 && test -t 2 && echo stdio-is-a-terminal; "
         "exec 3</dev/tty && echo has-controlling-terminal; stty size; "
         "t=$(tty) && test -c \"$t\" && test \"$(stat -c %d \"$t\")\" = \"$(stat -c %d /dev/pts)\" "
         "&& echo terminal:$t; echo ready; read line; "
         "echo got:$line; exit 7"},
        "ready", "typed\r");
    INFO(run.output);
    CHECK(run.exit_code == 7);
    CHECK(Contains(run.output, "stdio-is-a-terminal"));
    CHECK(Contains(run.output, "has-controlling-terminal"));
    CHECK(Contains(run.output, "33 101"));  // tokenbox's window size.
    // From the sandbox's own devpts instance, the first terminal there: its name resolves.
    CHECK(Contains(run.output, "terminal:/dev/pts/0"));
    CHECK(Contains(run.output, "got:typed"));
    CHECK(run.modes_kept);
    CHECK_FALSE(run.input_left);
  }
}

// With --pty, what the program pushes into its terminal (TIOCSTI, with perl,
// which Debian always has) lands in its own, which it reads itself; tokenbox's is untouched.
TEST_CASE("--pty: input the program pushes into its terminal never reaches tokenbox's") {
  TB_REQUIRE_PRIVILEGE();
  TerminalRun run = RunOnTerminal(
      {}, {"/usr/bin/perl", "-e",
           "for my $x ('Z', qq(\\n)) { my $c = $x; ioctl(STDIN, 0x5412, $c) or die qq(TIOCSTI: $!\\n) } "
           "my $line = <STDIN>; print qq(read back $line);"},
      "", "");
  INFO(run.output);
  CHECK(run.exit_code == 0);
  CHECK(Contains(run.output, "read back Z"));
  CHECK_FALSE(run.input_left);
  CHECK(run.modes_kept);
}

TEST_CASE("--pty: ^C typed reaches the program through its own terminal") {
  TB_REQUIRE_PRIVILEGE();
  TerminalRun run = RunOnTerminal(
      {}, {"/bin/sh", "-c", "trap 'echo interrupted; exit 5' INT; echo ready; read never"},
      "ready\r\n", "\x03");
  INFO(run.output);
  CHECK(run.exit_code == 5);
  CHECK(Contains(run.output, "interrupted"));
  CHECK(run.modes_kept);
}

TEST_CASE("--pty without a terminal: piped input is relayed, and its end is the program's") {
  TB_REQUIRE_PRIVILEGE();
  std::vector<std::string> argv = {"tools/tokenbox", "run", "--pty"};
  argv.insert(argv.end(), kPolicy.begin(), kPolicy.end());
  argv.insert(argv.end(), {"--", "/bin/sh", "-c", "cat; echo after-eof"});
  testing::CommandResult r = testing::RunCommand(argv, {.stdin_data = "piped\n"});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.out, "piped"));
  CHECK(Contains(r.out, "after-eof"));
}

}  // namespace
}  // namespace tokenbox
