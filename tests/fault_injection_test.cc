// Makes each syscall of the launch fail in turn and checks that tokenbox says which step failed
// with which errno, exits 125, and leaves no process, zombie, mount or fd. Zombies and fds are
// checked inside the launching process (tests/fault_target), where they would be; a count over
// the whole host would be disturbed by anything else running.
//
// Most faults are injected with `strace -f --inject`, which counts each process's calls on its
// own (`when=N` is a process's Nth call) but injects into every process it follows: it fails
// the Nth call of whichever process makes one first. Two kinds of row need aim, which
// tests/fault_target gives with ptrace (`--inject-launcher`, `--inject-child`):
//  - launcher-only rows fail the Nth call of the launcher's main thread, where the launcher's
//    side of the handshake runs, optionally counting only calls on a file under a path (in a
//    sanitized build the launcher also write()s to pipes, a varying number of times: UBSan's
//    memory probes);
//  - child-only rows fail the Nth call of the sandbox's child (the first process the launcher
//    forks), which makes its recvmsg calls after the launcher has made as many.
#include <sys/capability.h>
#include <unistd.h>

#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "tests/command_runner.h"
#include "tests/process_state.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::CommandResult;
using ::tokenbox::testing::Contains;
using ::tokenbox::testing::ProcessWithArgument;
using ::tokenbox::testing::RunCommand;

// Which processes a fault is injected into.
enum class Target {
  kAll,       // strace -f: every process, each counted on its own.
  kLauncher,  // fault_target --inject-launcher: the launcher's main thread only.
  kChild,     // fault_target --inject-child: the sandbox's child only.
};

struct Fault {
  std::string inject;  // SYSCALL:error=ERRNO:when=N, as strace's --inject takes it.
  const char* step;    // The step tokenbox must name.
  const char* errno_name;
  const char* only_path = nullptr;  // strace -P: inject only into calls on this path.
  bool pid_namespace = false;       // Launch with the default pid namespace, not without.
  bool fork_server = false;         // Launch through a fork server (--via-fork-server).
  Target target = Target::kAll;
  bool full_policy = false;         // kFullPolicy rather than map_create and array maps.
  const char* call = nullptr;       // Text the line must hold too: which call failed.
  const char* fd_under = nullptr;   // kLauncher: count only calls on an fd under this path.
};

// Every delegate option, and a number: attach type 56 has no name in this build's libbpf, so the
// launcher sends it in an fsconfig call of its own (a number in a string would overwrite the
// names before it). Six fsconfig calls in all; the first test case below checks that.
const std::vector<std::string> kFullPolicy = {
    "--delegate-cmds=map_create:prog_load:btf_load", "--delegate-maps=array",
    "--delegate-progs=socket_filter", "--delegate-attachs=cgroup_inet_ingress:0x100000000000000"};
const std::vector<std::string> kSmallPolicy = {"--delegate-cmds=map_create",
                                               "--delegate-maps=array"};

// The child's prctl calls, in order: PR_SET_KEEPCAPS (ns/user_namespace.cc, before its user
// namespace exists), then (token/process_capabilities.cc) PR_SET_SECUREBITS, one
// PR_CAPBSET_DROP for each capability up to CAP_LAST_CAP but the kept cap_bpf, then
// PR_CAP_AMBIENT_CLEAR_ALL, PR_CAP_AMBIENT_RAISE(cap_bpf), PR_SET_NO_NEW_PRIVS, and last
// PR_SET_PDEATHSIG. Each row also checks that the line names the call it meant to fail.
constexpr int kBoundingSetDrops = CAP_LAST_CAP + 1 - 1;
constexpr int kAmbientClearPrctl = 1 + 1 + kBoundingSetDrops + 1;

std::string Prctl(const char* error, int nth) {
  return absl::StrCat("prctl:error=", error, ":when=", nth);
}

const std::vector<Fault>& Faults() {
  static const auto* faults = new std::vector<Fault>{
      {"socketpair:error=ENFILE:when=1", "create handshake socket", "ENFILE"},
      // Without a pid namespace the launcher first forks its cgroup's watcher (the rows here
      // launch without one unless they say otherwise), then the child.
      {"clone:error=EAGAIN:when=1", "create the sandbox's cgroup", "EAGAIN", nullptr, false,
       false, Target::kAll, false, "fork(launcher watcher)"},
      {"clone:error=EAGAIN:when=1", "fork", "EAGAIN", nullptr, true},
      {"pidfd_open:error=EMFILE:when=1", "open pidfd", "EMFILE"},
      {"setsid:error=EPERM:when=1", "new session", "EPERM"},
      {"unshare:error=EPERM:when=1", "create namespaces", "EPERM"},
      {"setgroups:error=EPERM:when=1", "drop supplementary groups", "EPERM", nullptr, false, false,
       Target::kAll, false, "setgroups(0)"},
#if !defined(__SANITIZE_ADDRESS__)
      // Not in sanitized builds: UBSan's vptr checks probe memory by write()ing it to a pipe
      // (IsAccessibleMemoryRange), a varying number of times in every process (a dozen in the
      // launcher's main thread before its first id map write), and a probe write that fails
      // with anything but EFAULT trips the runtime's own CHECK. The launcher-only rows below
      // count writes to /proc files only.
      // The child's first write puts it in its own cgroup (with a pid namespace, so that the
      // first process the launcher forks is the child).
      {"write:error=EPERM:when=1", "enter its own cgroup", "EPERM", nullptr, true, false,
       Target::kChild, false, "write(cgroup.procs, 0)"},
#endif
      // The launcher's first write under /sys/fs/cgroup: the default pids limit.
      {"write:error=EPERM:when=1", "create the sandbox's cgroup", "EPERM", nullptr, false, false,
       Target::kLauncher, false, "/pids.max, 4096)", "/sys/fs/cgroup"},
      // The launcher's first mkdir under /run and under /sys/fs/cgroup: the lease directory,
      // and the sandbox's cgroup; the second there, its cgroup in the pids hierarchy.
      {"mkdirat:error=EACCES:when=1", "lease host ids", "EACCES", nullptr, false, false,
       Target::kLauncher, false, "mkdir(tokenbox)", "/run"},
      {"mkdirat:error=EACCES:when=1", "create the sandbox's cgroup", "EACCES", nullptr, false,
       false, Target::kLauncher, false, "mkdir(/sys/fs/cgroup/", "/sys/fs/cgroup"},
      {"mkdirat:error=EACCES:when=2", "create the sandbox's cgroup", "EACCES", nullptr, false,
       false, Target::kLauncher, false, "mkdir(/sys/fs/cgroup/pids/", "/sys/fs/cgroup"},
      // A fork server without a pid namespace gives each launch a cgroup below its own.
      {"mkdirat:error=EACCES:when=3", "create the launch's cgroup", "EACCES", nullptr, false, true,
       Target::kLauncher, false, "/launch-", "/sys/fs/cgroup"},
      {"mount:error=EPERM:when=1", "mount its cgroup view", "EPERM", "/sys/fs/cgroup"},
      // The launcher's id map writes, in order: /proc/PID/setgroups, gid_map, uid_map.
      {"write:error=EPERM:when=1", "write id maps", "EPERM", nullptr, false, false,
       Target::kLauncher, false, "/setgroups)", "/proc/"},
      {"write:error=EPERM:when=2", "write id maps", "EPERM", nullptr, false, false,
       Target::kLauncher, false, "/gid_map)", "/proc/"},
      {"write:error=EINVAL:when=3", "write id maps", "EINVAL", nullptr, false, false,
       Target::kLauncher, false, "/uid_map)", "/proc/"},
      // The child becomes the sandbox's host user (a leased uid) before its user namespace
      // exists, then the mapped root inside it.
      {"prctl:error=EINVAL:when=1", "become the sandbox's host user", "EINVAL", nullptr, false,
       false, Target::kAll, false, "PR_SET_KEEPCAPS"},
      {"setresgid:error=EPERM:when=1", "become the sandbox's host user", "EPERM"},
      {"setresuid:error=EPERM:when=1", "become the sandbox's host user", "EPERM"},
      {"capset:error=EPERM:when=1", "become the sandbox's host user", "EPERM", nullptr, false,
       false, Target::kAll, false, "capset(effective cap_sys_admin)"},
      {"kill:error=EPERM:when=1", "become the sandbox's host user", "EPERM", nullptr, false,
       false, Target::kAll, false, "kill(-1, SIGKILL) as uid 20"},
      {"setresgid:error=EPERM:when=2", "enter mapped ids", "EPERM"},
      {"setresuid:error=EPERM:when=2", "enter mapped ids", "EPERM"},
      {"mount:error=EPERM:when=1", "make mounts private", "EPERM"},
      // The child's filesystem view mounts a tmpfs on /tmp first (fsopen, fsconfig mode,
      // size, create, fsmount, move_mount), then on /var/tmp, /dev/shm and /run.
      {"fsopen:error=ENOMEM:when=1", "arrange filesystem view", "ENOMEM", nullptr, false, false,
       Target::kAll, false, "mount tmpfs on /tmp"},
      {"fsconfig:error=EINVAL:when=1", "arrange filesystem view", "EINVAL", nullptr, false, false,
       Target::kAll, false, "mode=\"1777\""},
      {"fsmount:error=ENOMEM:when=4", "arrange filesystem view", "ENOMEM", nullptr, false, false,
       Target::kAll, false, "mount tmpfs on /run"},
      // Then the delegated bpffs: the child's fifth fsopen; the launcher's fsconfig calls.
      {"fsopen:error=ENOMEM:when=5", "mount delegated bpffs", "ENOMEM", nullptr, false, false,
       Target::kAll, false, "fsopen(\"bpf\")"},
      {"fsconfig:error=EINVAL:when=1", "configure delegated bpffs", "EINVAL", nullptr, false,
       false, Target::kLauncher},
      {"fsconfig:error=EINVAL:when=2", "configure delegated bpffs", "EINVAL", nullptr, false,
       false, Target::kLauncher},
      {"fsconfig:error=ENOMEM:when=3", "configure delegated bpffs", "ENOMEM", nullptr, false,
       false, Target::kLauncher},
      // The full policy: every fsconfig call fails once.
      {"fsconfig:error=EINVAL:when=1", "configure delegated bpffs", "EINVAL", nullptr, false,
       false, Target::kLauncher, true, "delegate_cmds=\"map_create:prog_load:btf_load\""},
      {"fsconfig:error=ENOMEM:when=2", "configure delegated bpffs", "ENOMEM", nullptr, false,
       false, Target::kLauncher, true, "delegate_maps=\"array\""},
      {"fsconfig:error=EINVAL:when=3", "configure delegated bpffs", "EINVAL", nullptr, false,
       false, Target::kLauncher, true, "delegate_progs=\"socket_filter\""},
      {"fsconfig:error=ENOMEM:when=4", "configure delegated bpffs", "ENOMEM", nullptr, false,
       false, Target::kLauncher, true, "delegate_attachs=\"cgroup_inet_ingress\""},
      {"fsconfig:error=EINVAL:when=5", "configure delegated bpffs", "EINVAL", nullptr, false,
       false, Target::kLauncher, true, "delegate_attachs=\"0x100000000000000\""},
      {"fsconfig:error=ENOMEM:when=6", "configure delegated bpffs", "ENOMEM", nullptr, false,
       false, Target::kLauncher, true, "FSCONFIG_CMD_CREATE"},
      {"fsmount:error=ENOMEM:when=1", "configure delegated bpffs", "ENOMEM", nullptr, false,
       false, Target::kLauncher},
      {"move_mount:error=EACCES:when=1", "arrange filesystem view", "EACCES", nullptr, false,
       false, Target::kAll, false, "mount tmpfs on /tmp"},
      // The child's fifth move_mount, after the view's four tmpfs mounts.
      {"move_mount:error=EACCES:when=5", "mount delegated bpffs", "EACCES", nullptr, false, false,
       Target::kAll, false, "/sys/fs/bpf"},
      {"bpf:error=EPERM:when=1", "create BPF token", "EPERM"},
      {"keyctl:error=EDQUOT:when=1", "join a new session keyring", "EDQUOT"},
      {"prctl:error=EINVAL:when=2", "drop capabilities", "EINVAL"},
      {"prctl:error=EPERM:when=3", "drop capabilities", "EPERM"},
      {"capset:error=EPERM:when=2", "drop capabilities", "EPERM"},
      {Prctl("EPERM", kAmbientClearPrctl), "drop capabilities", "EPERM", nullptr, false, false,
       Target::kAll, false, "PR_CAP_AMBIENT_CLEAR_ALL"},
      {Prctl("EPERM", kAmbientClearPrctl + 1), "drop capabilities", "EPERM", nullptr, false, false,
       Target::kAll, false, "PR_CAP_AMBIENT_RAISE, cap_bpf"},
      {Prctl("EINVAL", kAmbientClearPrctl + 2), "drop capabilities", "EINVAL", nullptr, false,
       false, Target::kAll, false, "PR_SET_NO_NEW_PRIVS"},
      {Prctl("EINVAL", kAmbientClearPrctl + 3), "set parent-death signal", "EINVAL", nullptr,
       false, false, Target::kAll, false, "PR_SET_PDEATHSIG"},
      {"execve:error=ENOMEM:when=1", "exec", "ENOMEM", "/usr/bin/true"},
      // The handshake's fd passing. With -f the child's sendmsg calls come first (it starts
      // the handshake) and the launcher's recvmsg calls do.
      {"sendmsg:error=EPIPE:when=1", "create namespaces", "EPIPE"},
      {"sendmsg:error=ENOBUFS:when=2", "mount delegated bpffs", "ENOBUFS"},
      {"recvmsg:error=EIO:when=1", "wait for the child", "EIO"},
      {"recvmsg:error=EIO:when=2", "wait for the child's bpffs context", "EIO"},
      // The launcher's own sendmsg calls (id maps written; the bpffs mount fd) and its last
      // recvmsg (the program started), and the child's recvmsg calls (the id maps; the mount).
      // Message types 2 and 4 are kIdMapsWritten and kBpffsMount (sandbox/protocol.h).
      {"sendmsg:error=ENOBUFS:when=1", "write id maps", "ENOBUFS", nullptr, false, false,
       Target::kLauncher, false, "sendmsg(message type 2,"},
      {"sendmsg:error=ENOBUFS:when=2", "configure delegated bpffs", "ENOBUFS", nullptr, false,
       false, Target::kLauncher, false, "sendmsg(message type 4, 1 fds)"},
      {"recvmsg:error=EIO:when=3", "wait for the program to start", "EIO", nullptr, false, false,
       Target::kLauncher, false, "recvmsg"},
      // EBADF maps to the same status code as a closed peer; it must not pass for an exec.
      {"recvmsg:error=EBADF:when=3", "wait for the program to start", "EBADF", nullptr, false,
       false, Target::kLauncher, false, "recvmsg"},
      // With a pid namespace, so that the first process the launcher forks is the child.
      {"recvmsg:error=EIO:when=1", "wait for id maps", "EIO", nullptr, true, false,
       Target::kChild, false, "recvmsg"},
      {"recvmsg:error=EIO:when=2", "mount delegated bpffs", "EIO", nullptr, true, false,
       Target::kChild, false, "waiting for the delegated bpffs"},
      {"mount:error=EPERM:when=1", "mount a devpts instance of its own", "EPERM", "/dev/pts"},
      // The pid namespace's own steps (the default mode): the launcher forks the child as its
      // pid 1, which mounts its /proc in a mount namespace of its own before anything else.
      {"unshare:error=ENOSPC:when=1", "create pid namespace", "ENOSPC", nullptr, true, false,
       Target::kAll, false, "unshare(CLONE_NEWPID)"},
      {"unshare:error=ENOSPC:when=1", "mount /proc", "ENOSPC", nullptr, true, false,
       Target::kChild, false, "unshare(CLONE_NEWNS)"},
      {"mount:error=EPERM:when=1", "mount /proc", "EPERM", "/proc", true},
      {"execve:error=ENOMEM:when=1", "exec", "ENOMEM", "/usr/bin/true", true},
      // A fork-server launch's own steps: the request, and its pid namespace, which the zygote
      // (the launcher's child) makes as it clones the launch.
      {"memfd_create:error=EMFILE:when=1", "send launch request", "EMFILE", nullptr, true, true},
      {"clone:error=ENOSPC:when=1", "fork from the fork server", "ENOSPC", nullptr, true, true,
       Target::kChild, false, "clone(CLONE_PARENT | CLONE_NEWPID)"},
      {"mount:error=EPERM:when=1", "mount /proc", "EPERM", "/proc", true, true},
      {"execve:error=ENOMEM:when=1", "exec", "ENOMEM", "/usr/bin/true", true, true},
  };
  return *faults;
}

// How a fault's row is labelled in the printed table (and in docs/SECURITY.md).
std::string Label(const Fault& fault) {
  std::string label = fault.inject;
  if (fault.target == Target::kLauncher) {
    label += fault.fd_under == nullptr ? " (launcher only)"
                                       : absl::StrCat(" (launcher only, on ", fault.fd_under, "*)");
  }
  if (fault.target == Target::kChild) label += " (child only)";
  if (fault.full_policy) label += " (full policy)";
  return label;
}

// `command` with the fault injected.
std::vector<std::string> Inject(const Fault& fault, const std::vector<std::string>& command) {
  std::vector<std::string> argv;
  if (fault.target != Target::kAll) {
    // "recvmsg:error=EIO:when=2" -> "--inject-child=recvmsg:EIO:2"
    std::vector<std::string> parts = absl::StrSplit(fault.inject, ':');
    REQUIRE(parts.size() == 3);
    REQUIRE(parts[1].rfind("error=", 0) == 0);
    REQUIRE(parts[2].rfind("when=", 0) == 0);
    std::string spec = absl::StrCat(parts[0], ":", parts[1].substr(6), ":", parts[2].substr(5));
    if (fault.fd_under != nullptr) absl::StrAppend(&spec, ":", fault.fd_under);
    argv = {"tests/fault_target",
            absl::StrCat(fault.target == Target::kChild ? "--inject-child=" : "--inject-launcher=",
                         spec),
            "--"};
  } else {
    argv = {"/usr/bin/strace", "-f", "-qq", "-o", "/dev/null",
            absl::StrCat("--inject=", fault.inject)};
    if (fault.only_path != nullptr) {
      argv.push_back("-P");
      argv.push_back(fault.only_path);
    }
  }
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

// `command` with `fault` injected. Once more when strace itself lost its tracee (a ptrace
// request failing under load, "strace: ptrace(PTRACE_LISTEN,...): Input/output error"): then
// the run says nothing about tokenbox.
CommandResult RunInjected(const Fault& fault, const std::vector<std::string>& command) {
  CommandResult r = RunCommand(Inject(fault, command), {.timeout = absl::Seconds(30)});
  if (Contains(r.err, "/usr/bin/strace: ptrace(")) {
    MESSAGE("strace lost its tracee; running again: ", r.err);
    r = RunCommand(Inject(fault, command), {.timeout = absl::Seconds(30)});
  }
  return r;
}

// Makes sanitized builds' traced commands skip LeakSanitizer, which cannot run under ptrace.
void NoLeakCheckUnderPtrace() {
  if (const char* asan = getenv("ASAN_OPTIONS"); asan != nullptr) {
    setenv("ASAN_OPTIONS", absl::StrCat(asan, ":detect_leaks=0").c_str(), 1);
  }
}

TEST_CASE("The full policy makes six fsconfig calls, the fifth with a number of its own") {
  TB_REQUIRE_PRIVILEGE();
  REQUIRE_MESSAGE(access("/usr/bin/strace", X_OK) == 0, "strace is missing: run tools/install-deps.sh");
  NoLeakCheckUnderPtrace();
  std::vector<std::string> argv = {"/usr/bin/strace", "-f", "-qq", "-e", "trace=fsconfig",
                                   "-o", "/dev/stdout", "tools/tokenbox", "run"};
  argv.insert(argv.end(), kFullPolicy.begin(), kFullPolicy.end());
  argv.insert(argv.end(), {"--no-unshare-pid", "--", "/usr/bin/true"});
  CommandResult r = RunCommand(argv, {.timeout = absl::Seconds(30)});
  INFO(r.out, r.err);
  REQUIRE(r.exit_code == 0);
  // The launcher's calls, on the bpffs context: the child's own configure its view's tmpfs.
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n');
  std::string launcher;
  for (const std::string& line : lines) {
    if (Contains(line, "\"delegate_cmds\"")) launcher = line.substr(0, line.find(' ') + 1);
  }
  REQUIRE_FALSE(launcher.empty());
  std::vector<std::string> calls;
  for (const std::string& line : lines) {
    if (line.rfind(launcher, 0) == 0 && Contains(line, "fsconfig(")) calls.push_back(line);
  }
  REQUIRE(calls.size() == 6);
  CHECK(Contains(calls[0], "\"delegate_cmds\", \"map_create:prog_load:btf_load\""));
  CHECK(Contains(calls[1], "\"delegate_maps\", \"array\""));
  CHECK(Contains(calls[2], "\"delegate_progs\", \"socket_filter\""));
  CHECK(Contains(calls[3], "\"delegate_attachs\", \"cgroup_inet_ingress\""));
  CHECK(Contains(calls[4], "\"delegate_attachs\", \"0x100000000000000\""));
  CHECK(Contains(calls[5], "FSCONFIG_CMD_CREATE"));
}

// What a failure line says after "ENAME (description)": its remedy, which every set-up failure
// must give. Empty when the line ends with the description.
std::string RemedyAfter(const std::string& line, const std::string& errno_name) {
  size_t at = line.find(absl::StrCat(": ", errno_name, " ("));
  if (at == std::string::npos) return "";
  size_t closing = line.find(')', at);
  if (closing == std::string::npos) return "";
  std::string rest = line.substr(closing + 1);
  rest = rest.substr(0, rest.find('\n'));
  return absl::StartsWith(rest, ": ") ? rest.substr(2) : "";
}

TEST_CASE("Every injected set-up fault is reported with its step and errno, and leaves nothing") {
  TB_REQUIRE_PRIVILEGE();
  REQUIRE_MESSAGE(access("/usr/bin/strace", X_OK) == 0, "strace is missing: run tools/install-deps.sh");
  // In a sanitized build, LeakSanitizer cannot run under ptrace (strace): the traced commands
  // skip it, or they would die at exit. Their leaks are checked untraced by the other tests.
  NoLeakCheckUnderPtrace();
  std::printf("%-54s | %-11s | %-34s | %-4s | %s\n", "injected fault", "launch", "reported step",
              "exit", "the line also names");
  for (const Fault& fault : Faults()) {
    INFO(Label(fault));
    const std::string marker = absl::StrCat("tokenbox_fault_marker_", getpid());
    const std::set<std::string> mounts_before = testing::MountTable();
    const std::vector<std::string>& policy = fault.full_policy ? kFullPolicy : kSmallPolicy;

    // The command a user runs: one line naming step and errno, exit 125, never a hang.
    std::vector<std::string> run = {"tools/tokenbox", "run"};
    run.insert(run.end(), policy.begin(), policy.end());
    run.push_back(fault.pid_namespace ? "--unshare-pid" : "--no-unshare-pid");
    if (fault.fork_server) run.push_back("--via-fork-server");
    run.insert(run.end(), {"--", "/usr/bin/true", marker});
    CommandResult cli = RunInjected(fault, run);
    INFO(cli.err);
    CHECK_FALSE(cli.timed_out);
    CHECK(cli.exit_code == 125);
    CHECK(testing::CountLines(cli.err) == 1);
    CHECK(Contains(cli.err, absl::StrCat("sandbox set-up failed at '", fault.step, "'")));
    CHECK(Contains(cli.err, absl::StrCat(": ", fault.errno_name, " (")));
    if (fault.call != nullptr) CHECK(Contains(cli.err, fault.call));
    CHECK_MESSAGE(!RemedyAfter(cli.err, fault.errno_name).empty(), "the line names no remedy");
    if (std::string(fault.step) == "create pid namespace") {
      CHECK(Contains(cli.err, "check /proc/sys/user/max_pid_namespaces"));
    }
    std::printf("%-54s | %-11s | %-34s | %-4d | %s\n", Label(fault).c_str(),
                fault.fork_server ? "fork server" : "direct", fault.step, cli.exit_code,
                fault.call == nullptr ? "" : fault.call);

    // The library in-process: no fd, child or zombie left in the launcher.
    std::vector<std::string> target = {"tests/fault_target"};
    if (fault.fork_server) target.push_back("--via-fork-server");
    if (fault.full_policy) target.insert(target.end(), kFullPolicy.begin(), kFullPolicy.end());
    target.insert(target.end(), {fault.pid_namespace ? "--pid" : "--no-pid", "/usr/bin/true", marker});
    CommandResult lib = RunInjected(fault, target);
    CHECK_FALSE(lib.timed_out);
    INFO(lib.out, lib.err);
    if (fault.inject.rfind("clone", 0) != 0) {  // strace's own fork is unaffected.
      CHECK(Contains(lib.out, absl::StrCat("result=sandbox set-up failed at '", fault.step, "'")));
      CHECK(Contains(lib.out, absl::StrCat(": ", fault.errno_name, " (")));
      if (fault.call != nullptr) CHECK(Contains(lib.out, fault.call));
    }
    CHECK(lib.err.empty());
    const size_t before = lib.out.find("fds_before="), after = lib.out.find("fds_after=");
    REQUIRE(before != std::string::npos);
    REQUIRE(after != std::string::npos);
    CHECK(std::stoi(lib.out.substr(before + 11)) == std::stoi(lib.out.substr(after + 10)));
    CHECK(Contains(lib.out, "children_left=0"));

    CHECK_FALSE(ProcessWithArgument(marker));
    const std::vector<std::string> mounts_left = testing::MountsLeftSince(mounts_before);
    INFO("mounts left: ", absl::StrJoin(mounts_left, "\n"));
    CHECK(mounts_left.empty());
  }
}

}  // namespace
}  // namespace tokenbox
