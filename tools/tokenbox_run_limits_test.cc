// What `tokenbox run` limits the program to: resource limits and syscall filters, which hold
// inside and which the program cannot undo.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/stat.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/command_runner.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::CommandResult;
using ::tokenbox::testing::Concat;
using ::tokenbox::testing::Contains;
using ::tokenbox::testing::RunCommand;

CommandResult Run(std::vector<std::string> options, std::vector<std::string> program) {
  return RunCommand(testing::TokenboxRunArgv(options, program));
}

// The two ways `tokenbox run` can launch: directly, and through a fork server.
const std::vector<std::string> kLaunchWays[] = {{}, {"--via-fork-server"}};

// --rlimit: the limits hold inside, and the program cannot raise a hard limit, which
// needs CAP_SYS_RESOURCE on the host.
TEST_CASE("tokenbox run --rlimit sets the program's limits, and it cannot raise the hard one") {
  TB_REQUIRE_PRIVILEGE();
  for (const std::vector<std::string>& way : kLaunchWays) {
    INFO(absl::StrJoin(way, " "));
    CommandResult r = Run(Concat({"--delegate-cmds=map_create", "--delegate-maps=array",
                                  "--rlimit=nofile=32:64", "--rlimit=CORE=0"},
                                 way),
                          {"/bin/sh", "-c",
                           "echo $(ulimit -Sn) $(ulimit -Hn) $(ulimit -Hc); "
                           "ulimit -Hn 65 2>/dev/null && echo raised || echo refused"});
    INFO(r.out, r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "32 64 0\nrefused\n");
  }
}

// A compiled seccomp filter, as seccomp_export_bpf() writes one, in a file: `syscall_nr` fails
// with `error`, everything else is allowed (on x86_64; any other architecture is killed).
std::string SeccompFile(const std::string& name, long syscall_nr, int error) {
  const sock_filter program[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(syscall_nr), 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | static_cast<uint32_t>(error)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  const char* dir = getenv("TEST_TMPDIR");
  const std::string path = absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
  FILE* file = fopen(path.c_str(), "wb");
  REQUIRE(file != nullptr);
  REQUIRE(fwrite(program, sizeof(program), 1, file) == 1);
  REQUIRE(fclose(file) == 0);
  return path;
}

#if defined(__x86_64__)
// The syscall filter: a denied call fails with the errno chosen, the program otherwise
// runs; without the filter the same call works.
TEST_CASE("tokenbox run --seccomp runs the program under the filter, installed last") {
  TB_REQUIRE_PRIVILEGE();
  const std::string deny_uname = SeccompFile("deny-uname.bpf", SYS_uname, ENOTRECOVERABLE);
  const std::vector<std::string> program = {"/bin/sh", "-c",
                                            "echo before; uname -n; echo status=$?"};
  for (const std::vector<std::string>& way : kLaunchWays) {
    INFO(absl::StrJoin(way, " "));
    const std::vector<std::string> policy =
        Concat({"--delegate-cmds=map_create", "--delegate-maps=array"}, way);
    CommandResult filtered = Run(Concat(policy, {"--seccomp=" + deny_uname}), program);
    INFO(filtered.out, filtered.err);
    CHECK(filtered.exit_code == 0);
    CHECK(filtered.out == "before\nstatus=1\n");
    CHECK(Contains(filtered.err, "State not recoverable"));  // strerror(ENOTRECOVERABLE)
    CommandResult plain = Run(policy, program);
    CHECK(plain.out == "before\ntokenbox\nstatus=0\n");
  }
  // The same filter, built from names with libseccomp.
  CommandResult named = Run({"--delegate-cmds=map_create", "--delegate-maps=array",
                             "--deny-syscalls=uname:ENOTRECOVERABLE"},
                            program);
  CHECK(named.out == "before\nstatus=1\n");
  CHECK(Contains(named.err, "State not recoverable"));
  CommandResult both = Run({"--delegate-cmds=map_create", "--delegate-maps=array",
                            "--seccomp=" + deny_uname, "--deny-syscalls=uname"},
                           {"/bin/true"});
  CHECK(both.exit_code == 125);
  CHECK(Contains(both.err, "a seccomp filter was given already (--seccomp); give one"));
  // A filter that denies execve leaves nothing to run: the exec step says so (126, as for a
  // program that cannot be run).
  CommandResult no_exec = Run({"--delegate-cmds=map_create", "--delegate-maps=array",
                               "--seccomp=" + SeccompFile("deny-execve.bpf", SYS_execve, EPERM)},
                              {"/bin/true"});
  CHECK(no_exec.exit_code == 126);
  CHECK(Contains(no_exec.err, "sandbox set-up failed at 'exec'"));
  CHECK(Contains(no_exec.err, "EPERM"));
}
#endif

// The token and the passed fds are moved above the targets on their way into place: a limit
// below that is said as such, with the number that would do.
TEST_CASE("--rlimit=nofile below the fds tokenbox places says so, and how many it needs") {
  TB_REQUIRE_PRIVILEGE();
  for (const std::vector<std::string>& way : kLaunchWays) {
    CommandResult r = Run(Concat({"--delegate-cmds=map_create", "--delegate-maps=array",
                                  "--rlimit=nofile=3"},
                                 way),
                          {"/bin/true"});
    INFO(r.err);
    CHECK(r.exit_code == 125);
    CHECK(testing::CountLines(r.err) == 1);
    CHECK(Contains(r.err, "sandbox set-up failed at 'arrange fds'"));
    CHECK(Contains(r.err, "the fd limit (RLIMIT_NOFILE, as --rlimit=nofile sets it) is below"));
    CHECK(Contains(r.err, "allow at least 4"));
  }
}

TEST_CASE("A --seccomp file that is no filter is one line, and the kernel's refusal another") {
  TB_REQUIRE_PRIVILEGE();
  const std::vector<std::string> policy = {"--delegate-cmds=map_create", "--delegate-maps=array"};
  CommandResult missing = Run(Concat(policy, {"--seccomp=/no/such/filter"}), {"/bin/true"});
  CHECK(missing.exit_code == 125);
  CHECK(missing.err == "tokenbox run: --seccomp: /no/such/filter: open: ENOENT (No such file or "
                       "directory)\n");
  const char* dir = getenv("TEST_TMPDIR");
  const std::string odd = absl::StrCat(dir != nullptr ? dir : "/tmp", "/odd.bpf");
  FILE* file = fopen(odd.c_str(), "wb");
  REQUIRE(file != nullptr);
  REQUIRE(fwrite("12345", 5, 1, file) == 1);
  REQUIRE(fclose(file) == 0);
  CommandResult not_a_filter = Run(Concat(policy, {"--seccomp=" + odd}), {"/bin/true"});
  CHECK(not_a_filter.exit_code == 125);
  CHECK(Contains(not_a_filter.err, "is not a compiled seccomp filter"));
  CHECK(testing::CountLines(not_a_filter.err) == 1);
  // A FIFO no one writes to, and a terminal: refused as what they are, without waiting on one or
  // taking the other.
  const std::string fifo = absl::StrCat(dir != nullptr ? dir : "/tmp", "/filter.fifo");
  unlink(fifo.c_str());
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  for (const std::string& odd_file : {fifo, std::string("/dev/tty"), std::string("/dev/null")}) {
    CommandResult refused_file = RunCommand(
        testing::TokenboxRunArgv(Concat(policy, {"--seccomp=" + odd_file}), {"/bin/true"}),
        {.timeout = absl::Seconds(10)});
    INFO(odd_file);
    CHECK_FALSE(refused_file.timed_out);
    CHECK(refused_file.exit_code == 125);
    CHECK(testing::CountLines(refused_file.err) == 1);
  }
  unlink(fifo.c_str());
  // Eight bytes the kernel does not take as a program (an unknown opcode).
  const std::string bad = absl::StrCat(dir != nullptr ? dir : "/tmp", "/bad.bpf");
  file = fopen(bad.c_str(), "wb");
  REQUIRE(file != nullptr);
  const sock_filter invalid = {0xffff, 0, 0, 0};
  REQUIRE(fwrite(&invalid, sizeof(invalid), 1, file) == 1);
  REQUIRE(fclose(file) == 0);
  CommandResult refused = Run(Concat(policy, {"--seccomp=" + bad}), {"/bin/true"});
  INFO(refused.err);
  CHECK(refused.exit_code == 125);
  CHECK(Contains(refused.err, "sandbox set-up failed at 'install the seccomp filter'"));
  CHECK(Contains(refused.err, "EINVAL"));
  CHECK(testing::CountLines(refused.err) == 1);
}

}  // namespace
}  // namespace tokenbox
