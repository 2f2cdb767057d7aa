// `tokenbox run` as a user meets it: the bundled example, an unmodified bpftool, exit codes,
// one-line errors, help, warnings and --verbose (its limits: tokenbox_run_limits_test.cc).
#include <limits.h>
#include <net/if.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "tests/command_runner.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::CommandResult;
using ::tokenbox::testing::Concat;
using ::tokenbox::testing::RunCommand;
using ::tokenbox::testing::StagedFiles;

const std::string kTokenbox = "tools/tokenbox";
const std::vector<std::string> kDemoPolicy = {
    "--delegate-cmds=map_create:prog_load:btf_load", "--delegate-maps=array",
    "--delegate-progs=socket_filter", "--delegate-attachs=any"};

using ::tokenbox::testing::Contains;

CommandResult Run(std::vector<std::string> options, std::vector<std::string> program,
                  testing::CommandOptions command_options = {}) {
  return RunCommand(testing::TokenboxRunArgv(options, program), command_options);
}

// The two ways `tokenbox run` can launch: directly, and through a fork server. Exit codes and
// errors must not tell them apart.
const std::vector<std::string> kLaunchWays[] = {{}, {"--via-fork-server"}};

StagedFiles& Example() {
  static StagedFiles staged({"examples/packet_counter/packet_counter",
                             "examples/packet_counter/packet_counter.bpf.o"});
  return staged;
}

TEST_CASE("The bundled example loads BPF through the token with only CAP_BPF") {
  TB_REQUIRE_PRIVILEGE();
  CommandResult r = Run(kDemoPolicy, {Example().path("packet_counter")});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.out, "capabilities: effective=cap_bpf permitted=cap_bpf bounding=cap_bpf\n"));
  CHECK(Contains(r.out, "token allows: delegate_cmds=map_create:prog_load:btf_load "
                        "delegate_maps=array delegate_progs=socket_filter delegate_attachs=any\n"));
  CHECK(Contains(r.out, "loaded program id "));
  CHECK(Contains(r.out, "(socket_filter), map id "));
  CHECK(Contains(r.out, "sent 10 packets on loopback, the program counted 10\n"));
  CHECK(Contains(r.out, "refused as expected: creating a hash map (not delegated): EPERM\n"));
  CHECK(r.err.empty());  // No warning for a complete policy, and libbpf stays quiet.
}

TEST_CASE("The example fails to load when the policy does not delegate its program type") {
  TB_REQUIRE_PRIVILEGE();
  CommandResult r = Run({"--delegate-cmds=map_create:prog_load:btf_load", "--delegate-maps=array",
                         "--delegate-progs=xdp", "--delegate-attachs=any"},
                        {Example().path("packet_counter")});
  CHECK(r.exit_code == 1);
  CHECK(Contains(r.err, "packet_counter: loading the program failed"));
  CHECK_FALSE(Contains(r.out, "the program counted"));
}

TEST_CASE("An unmodified bpftool loads and pins a program with only CAP_BPF when delegated") {
  TB_REQUIRE_PRIVILEGE();
  const std::string object = Example().path("packet_counter.bpf.o");
  CommandResult r = Run({"--delegate-cmds=prog_load:map_create:btf_load:obj_pin",
                         "--delegate-maps=array", "--delegate-progs=socket_filter",
                         "--delegate-attachs=any"},
                        {"/bin/sh", "-c",
                         absl::StrCat("/usr/sbin/bpftool prog load ", object,
                                      " /sys/fs/bpf/counter && test -e /sys/fs/bpf/counter && "
                                      "grep CapEff /proc/self/status")});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.out, "CapEff:\t0000008000000000"));
}

// A real loader that keeps a lock file under /run (xdp-tools' xdp-loader, from Debian) loads
// XDP on a veth pair of the sandbox's own network namespace: the sandbox's private /run is
// what lets it start, which the host's, read-only, does not.
TEST_CASE("An unmodified xdp-loader, locking under /run, loads XDP on a veth pair inside") {
  TB_REQUIRE_PRIVILEGE();
  REQUIRE_MESSAGE(access("/usr/sbin/xdp-loader", X_OK) == 0,
                  "xdp-loader is missing: run tools/install-deps.sh test (Debian's xdp-tools)");
  const std::string object = "/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_all.o";
  REQUIRE(access(object.c_str(), R_OK) == 0);
  // Its program subtracts packet pointers, which the verifier allows only with CAP_PERFMON.
  const std::vector<std::string> policy = {
      "--delegate-cmds=prog_load:map_create:btf_load:link_create", "--delegate-maps=any",
      "--delegate-progs=xdp:socket_filter", "--delegate-attachs=any",
      "--keep-caps=net_admin:perfmon"};
  const std::string script = absl::StrCat(
      "ip link add veth0 type veth peer name veth1 && ip link set veth0 up && "
      "ip link set veth1 up && LIBXDP_SKIP_DISPATCHER=1 xdp-loader load -m skb veth0 ", object,
      " && ip -o link show veth0 | grep -o 'xdpgeneric.*prog/xdp'");
  CommandResult loaded = Run(policy, {"/bin/sh", "-c", script});
  INFO(loaded.out, loaded.err);
  CHECK(loaded.exit_code == 0);
  CHECK(Contains(loaded.out, "prog/xdp"));
  CHECK(access("/run/xdp-loader.lck", F_OK) != 0);  // Its lock was in the sandbox's /run.
  CHECK(if_nametoindex("veth0") == 0);              // Its veth pair, in its own namespace.
  // The host's /run bound back, read-only: the loader cannot take its lock.
  CommandResult refused = Run(Concat(policy, {"--ro-bind", "/run", "/run"}), {"/bin/sh", "-c", script});
  CHECK(refused.exit_code != 0);
  CHECK(Contains(refused.err, "Unable to get program lock: Read-only file system"));
}

TEST_CASE("The same bpftool command fails without the delegation") {
  TB_REQUIRE_PRIVILEGE();
  const std::string object = Example().path("packet_counter.bpf.o");
  for (std::vector<std::string> policy :
       {std::vector<std::string>{"--delegate-cmds=map_create", "--delegate-maps=array"},
        std::vector<std::string>{"--delegate-cmds=prog_load:map_create:btf_load:obj_pin",
                                 "--delegate-maps=array", "--delegate-progs=xdp",
                                 "--delegate-attachs=any"}}) {
    INFO(policy[0]);
    CommandResult r = Run(policy, {"/usr/sbin/bpftool", "prog", "load", object, "/sys/fs/bpf/x"});
    CHECK(r.exit_code != 0);
    CHECK(Contains(r.err, "failed to load object"));
  }
}

// The strict example of `run --help`, as it stands there, in the object's directory.
TEST_CASE("The --help example of a strict sandbox loads a program with nothing else of the host") {
  TB_REQUIRE_PRIVILEGE();
  CommandResult help = RunCommand({kTokenbox, "run", "--help"});
  const size_t at = help.out.find("  sudo tokenbox run --delegate-cmds=prog_load:btf_load:map_create:obj_pin \\\n      --delegate-progs=socket_filter --delegate-maps=array --delegate-attachs=any \\\n      --empty-root");
  REQUIRE(at != std::string::npos);
  std::string example = help.out.substr(at + 7);  // After "  sudo ".
  example = example.substr(0, example.find("/sys/fs/bpf/prog") + 16);
  example = absl::StrReplaceAll(example, {{"\\\n", " "}});
  std::vector<std::string> argv = absl::StrSplit(example, ' ', absl::SkipEmpty());
  REQUIRE(argv[0] == "tokenbox");
  char tokenbox[PATH_MAX];
  REQUIRE(realpath(kTokenbox.c_str(), tokenbox) != nullptr);
  argv[0] = tokenbox;
  // The object under the name the example gives it, in the directory tokenbox runs in.
  StagedFiles stage;
  REQUIRE(symlink(Example().path("packet_counter.bpf.o").c_str(), stage.path("prog.bpf.o").c_str()) == 0);
  for (const std::vector<std::string>& way : kLaunchWays) {
    std::vector<std::string> command = argv;
    command.insert(command.begin() + 2, way.begin(), way.end());
    // And what else is there: the example's command, then a look at / and the host's /etc.
    command.insert(command.end() - 5, {"/bin/sh", "-c",
                                       "\"$@\" && test -e /sys/fs/bpf/prog && echo pinned; "
                                       "echo /*; test -e /etc || echo no etc", "sh"});
    char here[PATH_MAX];
    REQUIRE(getcwd(here, sizeof(here)) != nullptr);
    REQUIRE(chdir(stage.dir().c_str()) == 0);
    CommandResult r = RunCommand(command);
    REQUIRE(chdir(here) == 0);
    INFO(absl::StrJoin(command, " "), "\n", r.out, r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "pinned\n/bin /dev /lib /lib64 /proc /prog.bpf.o /sys /tmp /usr\nno etc\n");
  }
}

TEST_CASE("tokenbox run passes the program's exit code and signal through") {
  TB_REQUIRE_PRIVILEGE();
  for (const std::vector<std::string>& way : kLaunchWays) {
    const std::vector<std::string> policy = Concat(kDemoPolicy, way);
    INFO(absl::StrJoin(way, " "));
    CHECK(Run(policy, {"/bin/sh", "-c", "exit 3"}).exit_code == 3);
    CHECK(Run(policy, {"/bin/true"}).exit_code == 0);
    CHECK(Run(policy, {"/bin/sh", "-c", "kill -TERM $$"}).exit_code == 128 + 15);
    CHECK(Run(Concat(policy, {"--no-unshare-pid"}), {"/bin/sh", "-c", "kill -KILL $$"}).exit_code ==
          128 + 9);
  }
}

TEST_CASE("tokenbox run exits 124 when the timeout kills the sandbox, and says so") {
  TB_REQUIRE_PRIVILEGE();
  for (const std::vector<std::string>& way : kLaunchWays) {
    INFO(absl::StrJoin(way, " "));
    CommandResult r = Run(Concat({"--delegate-cmds=map_create", "--delegate-maps=array",
                                  "--timeout=200ms"}, way),
                          {"/bin/sleep", "30"});
    CHECK(r.exit_code == 124);
    CHECK(r.err == "tokenbox run: the timeout of 200ms passed; the sandbox was killed\n");
  }
}

TEST_CASE("tokenbox run exits 127 for a missing program and 126 for one it cannot run") {
  TB_REQUIRE_PRIVILEGE();
  StagedFiles files;
  std::string not_executable = files.Write("data.txt", "not a program\n", 0644);
  std::string no_interpreter =
      files.Write("script.sh", "#!/no/such/interpreter\necho unreachable\n", 0755);
  struct Case {
    std::string program;
    int exit_code;
    std::string error;
  };
  const Case cases[] = {
      {"/no/such/program", 127, "program not found"},
      {"tokenbox_no_such_program_name", 127, "or in its PATH"},
      {not_executable, 126, "is not executable by the sandbox's user (host uid 20"},
      {"/usr", 126, "EACCES"},
      {no_interpreter, 127, "exists, but the interpreter on its #! line"},
  };
  for (const std::vector<std::string>& way : kLaunchWays) {
    for (const Case& c : cases) {
      INFO(c.program, " ", absl::StrJoin(way, " "));
      CommandResult r =
          Run(Concat({"--delegate-cmds=map_create", "--delegate-maps=array"}, way), {c.program});
      CHECK(r.exit_code == c.exit_code);
      CHECK(testing::CountLines(r.err) == 1);
      CHECK(Contains(r.err, "tokenbox run: sandbox set-up failed at 'exec': execve("));
      CHECK(Contains(r.err, c.error));
    }
  }
}

// Not root, it asks tokenboxd; with none to ask, it says what to do.
TEST_CASE("tokenbox run as a user who is not root, with no tokenboxd, says what to do, exits 125") {
  TB_REQUIRE_PRIVILEGE();
  StagedFiles staged({kTokenbox});
  CommandResult r = RunCommand({staged.path("tokenbox"), "run", "--delegate-cmds=map_create",
                                "--delegate-maps=array", "--", "/bin/true"},
                               {.uid = 1000,
                                .env = std::vector<std::string>{
                                    "TOKENBOX_SERVICE_SOCKET=/nonexistent/tokenboxd.sock"}});
  CHECK(r.exit_code == 125);
  CHECK(r.err ==
        "tokenbox run: sandbox set-up failed at 'ask tokenboxd': "
        "connect(/nonexistent/tokenboxd.sock): ENOENT (No such file or directory): tokenbox is "
        "not root here (a launcher needs CAP_SYS_ADMIN in the initial user namespace to delegate "
        "a bpffs), so it asks tokenboxd, which does not answer at /nonexistent/tokenboxd.sock: "
        "run as root, or ask the administrator to start tokenboxd (tools/dev install) and grant "
        "you a line in /etc/tokenbox/delegation.conf\n");
}

TEST_CASE("tokenbox run prints lint warnings before launching, and launches anyway") {
  TB_REQUIRE_PRIVILEGE();
  CommandResult r = Run({"--delegate-cmds=prog_load", "--delegate-progs=xdp",
                         "--delegate-attachs=any"},
                        {"/bin/true"});
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.err, "tokenbox run: warning: program types xdp are delegated, but loading "
                        "them needs CAP_NET_ADMIN"));
}

TEST_CASE("tokenbox run --verbose shows each set-up step with its time") {
  TB_REQUIRE_PRIVILEGE();
  CommandResult r = Run(Concat(kDemoPolicy, {"--verbose"}), {"/bin/true"});
  CHECK(r.exit_code == 0);
  for (const char* step : {"launcher: forked the child", "child: create namespaces",
                           "launcher: wrote id maps", "launcher: configured delegated bpffs",
                           "child: create BPF token", "child: drop capabilities",
                           "launcher: program started (execve succeeded)",
                           "tokenbox run: the sandbox exited with code 0"}) {
    INFO(step);
    CHECK(Contains(r.err, step));
  }
  CHECK(Contains(r.err, " ms  "));
}

TEST_CASE("tokenbox run --help documents every option, the exit codes, and examples") {
  CommandResult r = RunCommand({kTokenbox, "run", "--help"});
  CHECK(r.exit_code == 0);
  for (const char* text : {"--delegate-cmds=LIST", "--bpffs=PATH", "--no-bpffs", "--uid=ID",
                           "--map-users=IN:OUT:COUNT", "--keep-caps=LIST", "--unshare-net",
                           "--share-net", "--share-ipc", "--share-uts", "--share-cgroup",
                           "--share-keyring",
                           "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--timeout=DURATION",
                           "--chdir=DIR", "--setenv=KEY=VALUE", "--unsetenv=KEY", "--clearenv",
                           "--verbose", "--via-fork-server", "--empty-root", "--bind SRC DEST",
                           "--ro-bind SRC DEST", "--tmpfs=DEST", "--dir=DEST",
                           "--symlink TARGET DEST", "--dev=DEST", "--proc=DEST",
                           "--remount-ro=DEST", "124", "125", "126", "127", "128+N", "Examples:"}) {
    INFO(text);
    CHECK(Contains(r.out, text));
  }
}

}  // namespace
}  // namespace tokenbox
