// Runs inside `tokenbox run` and tries one way to get more than the policy gives. Usage:
//
//   escape_probe PROBE [ARG]
//
// prints one line "probe=PROBE expected=E observed=O" and exits 0 when O is exactly E (the
// refusal the kernel should give), 1 when it is anything else, and 2 for an unknown probe. E is
// an errno name ("EPERM") or, for probes whose refusal is not one failed call, a short outcome
// ("euid=0,CapEff=cap_bpf,CapPrm=cap_bpf"). A probe that makes several attempts reports the
// common errno when every attempt failed with it, and each attempt's result otherwise.
//
// tests/escape/escape_test.cc runs each probe and explains the expected values. The probe assumes
// the policy of that test: map_create:prog_load:btf_load, maps array, progs socket_filter, attach
// types cgroup_inet_ingress.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/securebits.h>
#include <sched.h>
#include <signal.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ns/errno_status.h"
#include "ns/pipe.h"
#include "ns/unique_fd.h"
#include "tests/bpf_ops.h"
#include "tests/process_state.h"
#include "token/capability_set.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::CreateMap;
using ::tokenbox::testing::kNoToken;
using ::tokenbox::testing::LoadTrivialProgram;

// One attempt's result: "OK" when the call succeeded, otherwise its errno name.
std::string Result(bool ok, int err) { return ok ? "OK" : ErrnoName(err); }
std::string SysResult(long ret) { return Result(ret >= 0, errno); }
std::string StatusResult(const absl::Status& status) {
  return status.ok() ? "OK" : ErrnoName(ErrnoOf(status));
}

// Several attempts that should all be refused the same way: the common result, or each
// attempt's result when they differ.
std::string Combine(const std::vector<std::pair<std::string, std::string>>& attempts) {
  bool same = true;
  for (const auto& attempt : attempts) same = same && attempt.second == attempts[0].second;
  if (same && !attempts.empty()) return attempts[0].second;
  std::vector<std::string> parts;
  for (const auto& [what, result] : attempts) parts.push_back(absl::StrCat(what, ":", result));
  return absl::StrJoin(parts, ",");
}

int TokenFd() {
  const char* value = getenv("TOKENBOX_TOKEN_FD");
  int fd = -1;
  if (value == nullptr || !absl::SimpleAtoi(value, &fd)) return -1;
  return fd;
}

long BpfTokenCreate(int bpffs_fd) {
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.token_create.bpffs_fd = static_cast<uint32_t>(bpffs_fd);
  return syscall(SYS_bpf, BPF_TOKEN_CREATE, &attr, sizeof(attr));
}

UniqueFd FsOpen(const char* fs) {
  return UniqueFd(static_cast<int>(syscall(SYS_fsopen, fs, FSOPEN_CLOEXEC)));
}
long FsConfig(int fd, unsigned cmd, const char* key, const char* value) {
  return syscall(SYS_fsconfig, fd, cmd, key, value, 0);
}

// unshare(CLONE_NEWUSER|CLONE_NEWNS): an unprivileged process may always do this, and then holds
// every capability, but only over the new namespaces.
std::string EnterNestedNamespaces() {
  return SysResult(unshare(CLONE_NEWUSER | CLONE_NEWNS));
}

std::string CapsString(uint64_t bits) {
  std::string names = CapabilitySet(bits).ToString();
  return names.empty() ? "none" : names;
}

// "euid=0,CapEff=cap_bpf,CapPrm=cap_bpf", from /proc/self/status.
std::string OwnCredentials() {
  std::ifstream status("/proc/self/status");
  std::string line, eff = "?", prm = "?";
  while (std::getline(status, line)) {
    absl::string_view rest = line;
    uint64_t bits = 0;
    if (absl::ConsumePrefix(&rest, "CapEff:") &&
        absl::SimpleHexAtoi(absl::StripAsciiWhitespace(rest), &bits)) {
      eff = CapsString(bits);
    } else if (absl::ConsumePrefix(&rest, "CapPrm:") &&
               absl::SimpleHexAtoi(absl::StripAsciiWhitespace(rest), &bits)) {
      prm = CapsString(bits);
    }
  }
  return absl::StrCat("euid=", geteuid(), ",CapEff=", eff, ",CapPrm=", prm);
}

// Runs `program report-credentials` in a child and returns what it printed, or
// "execve:<ERRNO>" when the exec itself was refused.
std::string ExecAndReport(const std::string& program) {
  absl::StatusOr<Pipe> out = MakePipe();
  if (!out.ok()) return "pipe2:" + ErrnoName(ErrnoOf(out.status()));
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) return "fork:" + ErrnoName(errno);
  if (pid == 0) {
    dup2(out->write_end.get(), 1);
    char* argv[] = {const_cast<char*>(program.c_str()), const_cast<char*>("report-credentials"),
                    nullptr};
    execve(program.c_str(), argv, environ);
    std::string failed = "execve:" + ErrnoName(errno);
    (void)!write(1, failed.data(), failed.size());
    _exit(127);
  }
  out->write_end.Reset();
  std::string text;
  char buffer[512];
  ssize_t n;
  while ((n = read(out->read_end.get(), buffer, sizeof(buffer))) > 0) {
    text.append(buffer, static_cast<size_t>(n));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return std::string(absl::StripAsciiWhitespace(text));
}

bool MountinfoContains(const std::string& marker) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mountinfo, line)) {
    if (line.find(marker) != std::string::npos) return true;
  }
  return false;
}

// --- The probes. Each returns {expected, observed}. -------------------------------------------

using Outcome = std::pair<std::string, std::string>;
using Args = std::vector<std::string>;

// fsopen needs CAP_SYS_ADMIN over the caller's mount namespace; the sandbox holds only CAP_BPF.
Outcome SecondBpffsFsopen(const Args&) {
  UniqueFd fs = FsOpen("bpf");
  return {"EPERM", Result(fs.valid(), errno)};
}

// In a nested user namespace fsopen works, but delegate_* options need CAP_SYS_ADMIN in the
// initial user namespace (capable(), kernel/bpf/inode.c).
Outcome SecondBpffsNestedDelegate(const Args&) {
  if (std::string r = EnterNestedNamespaces(); r != "OK") return {"EPERM", "unshare:" + r};
  UniqueFd fs = FsOpen("bpf");
  if (!fs) return {"EPERM", "fsopen:" + ErrnoName(errno)};
  return {"EPERM", SysResult(FsConfig(fs.get(), FSCONFIG_SET_STRING, "delegate_cmds", "any"))};
}

// Even without delegate options the nested namespace cannot make a bpffs of its own to get a
// token from: creating a bpffs superblock outside the initial user namespace needs
// CAP_SYS_ADMIN in the initial one (bpf_fill_super), which is why the launcher does that step.
Outcome SecondBpffsNestedCreate(const Args&) {
  const std::string expected = "EPERM";
  if (std::string r = EnterNestedNamespaces(); r != "OK") return {expected, "unshare:" + r};
  UniqueFd fs = FsOpen("bpf");
  if (!fs) return {expected, "fsopen:" + ErrnoName(errno)};
  if (FsConfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr) != 0) {
    return {expected, ErrnoName(errno)};
  }
  // Created after all: the token is the next line of defence (no delegation: ENOENT).
  UniqueFd mnt(static_cast<int>(syscall(SYS_fsmount, fs.get(), FSMOUNT_CLOEXEC, 0)));
  if (!mnt) return {expected, "created,fsmount:" + ErrnoName(errno)};
  UniqueFd root(openat(mnt.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) return {expected, "created,open_root:" + ErrnoName(errno)};
  return {expected, "created,token:" + SysResult(BpfTokenCreate(root.get()))};
}

// The delegated bpffs belongs to the sandbox's user namespace; a nested one (where the process
// holds every capability) may not make tokens from it: creator and bpffs must share a userns.
Outcome DelegatedBpffsTokenFromNestedUserns(const Args&) {
  UniqueFd root(open("/sys/fs/bpf", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) return {"EPERM", "open:" + ErrnoName(errno)};
  if (long control = BpfTokenCreate(root.get()); control < 0) {
    return {"EPERM", "control_token:" + ErrnoName(errno)};
  }
  if (std::string r = EnterNestedNamespaces(); r != "OK") return {"EPERM", "unshare:" + r};
  return {"EPERM", SysResult(BpfTokenCreate(root.get()))};
}

// fspick needs CAP_SYS_ADMIN over the mount namespace.
Outcome FspickDelegatedBpffs(const Args&) {
  return {"EPERM", SysResult(syscall(SYS_fspick, AT_FDCWD, "/sys/fs/bpf", FSPICK_CLOEXEC))};
}

// In a nested mount namespace fspick succeeds on the (copied) delegated bpffs, but setting a
// delegate option still needs CAP_SYS_ADMIN in the initial user namespace, and reconfiguring the
// superblock needs CAP_SYS_ADMIN over its owner (the sandbox's user namespace).
Outcome FspickNestedDelegate(const Args&) {
  if (std::string r = EnterNestedNamespaces(); r != "OK") return {"EPERM", "unshare:" + r};
  UniqueFd fs(static_cast<int>(syscall(SYS_fspick, AT_FDCWD, "/sys/fs/bpf", FSPICK_CLOEXEC)));
  if (!fs) return {"EPERM", "fspick:" + ErrnoName(errno)};
  std::vector<std::pair<std::string, std::string>> attempts;
  attempts.emplace_back("delegate_cmds=any", SysResult(FsConfig(fs.get(), FSCONFIG_SET_STRING,
                                                                "delegate_cmds", "any")));
  UniqueFd fs2(static_cast<int>(syscall(SYS_fspick, AT_FDCWD, "/sys/fs/bpf", FSPICK_CLOEXEC)));
  if (!fs2) return {"EPERM", "fspick:" + ErrnoName(errno)};
  attempts.emplace_back("reconfigure", SysResult(FsConfig(fs2.get(), FSCONFIG_CMD_RECONFIGURE,
                                                          nullptr, nullptr)));
  return {"EPERM", Combine(attempts)};
}

// A bpffs the host mounted with delegate options (argv[2]): reachable and readable, but owned by
// the initial user namespace, so no token comes from it.
Outcome HostBpffsToken(const Args& args) {
  if (args.empty()) return {"EPERM", "missing_path"};
  UniqueFd root(open(args[0].c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) return {"EPERM", "open:" + ErrnoName(errno)};
  return {"EPERM", SysResult(BpfTokenCreate(root.get()))};
}

// The same host bpffs (or anything else) through the root of another process: /proc/PID/root
// needs ptrace access to PID, which the sandbox has for none of them. With --no-unshare-pid,
// pid 1 and the parent are the host's init and tokenbox; in the default pid namespace both are
// the sandbox's own pid 1. The probe prints "targets parent=PID" first, so that the test can
// check which process it reached.
Outcome HostBpffsViaProcRoot(const Args& args) {
  if (args.empty()) return {"EACCES", "missing_path"};
  const pid_t parent = getppid();
  std::printf("targets parent=%d\n", parent);
  std::vector<std::pair<std::string, std::string>> attempts;
  for (pid_t pid : {pid_t{1}, parent}) {
    std::string path = absl::StrCat("/proc/", pid, "/root", args[0]);
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    attempts.emplace_back(absl::StrCat("pid", pid), Result(fd.valid(), errno));
  }
  return {"EACCES", Combine(attempts)};
}

// Not-delegated types through the token, and without it. Each first checks that the token does
// load what it delegates, so that a broken token cannot pass for a refusal.
std::string DelegatedControl(int token) {
  if (token < 0) return "no_token_fd";
  absl::StatusOr<UniqueFd> map = CreateMap(BPF_MAP_TYPE_ARRAY, token);
  if (!map.ok()) return "control_map:" + StatusResult(map.status());
  absl::StatusOr<UniqueFd> prog = LoadTrivialProgram(BPF_PROG_TYPE_SOCKET_FILTER,
                                                     BPF_CGROUP_INET_INGRESS, token);
  if (!prog.ok()) return "control_prog:" + StatusResult(prog.status());
  return "";
}

Outcome UndelegatedMap(bool with_token) {
  int token = TokenFd();
  if (std::string control = DelegatedControl(token); !control.empty()) return {"EPERM", control};
  return {"EPERM", StatusResult(CreateMap(BPF_MAP_TYPE_HASH, with_token ? token : kNoToken).status())};
}

Outcome UndelegatedProg(bool with_token) {
  int token = TokenFd();
  if (std::string control = DelegatedControl(token); !control.empty()) return {"EPERM", control};
  // cgroup_skb is not delegated; its attach type is.
  return {"EPERM", StatusResult(LoadTrivialProgram(BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS,
                                                   with_token ? token : kNoToken, 1)
                                    .status())};
}

Outcome UndelegatedAttach(bool with_token) {
  int token = TokenFd();
  if (std::string control = DelegatedControl(token); !control.empty()) return {"EPERM", control};
  // socket_filter is delegated; the attach type cgroup_inet_egress is not.
  return {"EPERM", StatusResult(LoadTrivialProgram(BPF_PROG_TYPE_SOCKET_FILTER, BPF_CGROUP_INET_EGRESS,
                                                   with_token ? token : kNoToken)
                                    .status())};
}

// --no-bpffs mounts the delegated bpffs nowhere, so /sys/fs/bpf inside is whatever the
// launcher's mount namespace has there; the test puts a bpffs there that the host mounted with
// every delegate option set to `any`. The probe checks that the token it was given works, that
// /sys/fs/bpf is that host bpffs (a bpffs whose mount options say delegate_cmds=any, which the
// sandbox's policy does not), and then asks it for a token: it belongs to the initial user
// namespace, so it never yields one.
Outcome HostBpffsAtSysFsBpf(const Args&) {
  const std::string expected = "EPERM";
  if (std::string control = DelegatedControl(TokenFd()); !control.empty()) {
    return {expected, control};
  }
  struct statfs fs;
  if (statfs("/sys/fs/bpf", &fs) != 0) return {expected, "statfs:" + ErrnoName(errno)};
  if (fs.f_type != BPF_FS_MAGIC) return {expected, "not_a_bpffs"};
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line, options;
  while (std::getline(mountinfo, line)) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ');
    if (fields.size() > 4 && fields[4] == "/sys/fs/bpf") options = fields.back();  // The top one.
  }
  if (options.find("delegate_cmds=any") == std::string::npos) {
    return {expected, "not_the_host_bpffs:" + options};
  }
  UniqueFd root(open("/sys/fs/bpf", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) return {expected, "open:" + ErrnoName(errno)};
  return {expected, SysResult(BpfTokenCreate(root.get()))};
}

// execve of a copy with file capabilities cap_sys_admin,cap_net_admin+ep (argv[2]): the bounding
// set holds only cap_bpf, so the file's permitted set cannot be granted, and for a file with the
// effective bit the kernel refuses the exec rather than start it without them.
Outcome ExecFileCaps(const Args& args) {
  if (args.empty()) return {"execve:EPERM", "missing_path"};
  return {"execve:EPERM", ExecAndReport(args[0])};
}

// execve of a setuid-root copy (argv[2]): host root is not mapped in the sandbox and
// NoNewPrivs is set, so the exec runs as before: inner uid 0 with cap_bpf only.
Outcome ExecSetuidRoot(const Args& args) {
  const std::string expected = "euid=0,CapEff=cap_bpf,CapPrm=cap_bpf";
  if (args.empty()) return {expected, "missing_path"};
  return {expected, ExecAndReport(args[0])};
}

// A plain re-exec as inner uid 0: SECBIT_NOROOT keeps root from getting a full set; only the
// ambient cap_bpf survives.
Outcome ExecSelf(const Args&) {
  return {"euid=0,CapEff=cap_bpf,CapPrm=cap_bpf", ExecAndReport("/proc/self/exe")};
}

// Raising a capability that is not in the permitted set, or in the ambient set.
Outcome CapsetRaise(const Args&) {
  std::vector<std::pair<std::string, std::string>> attempts;
  cap_t caps = cap_get_proc();
  cap_value_t raise[] = {CAP_SYS_ADMIN, CAP_NET_ADMIN};
  cap_set_flag(caps, CAP_EFFECTIVE, 2, raise, CAP_SET);
  cap_set_flag(caps, CAP_PERMITTED, 2, raise, CAP_SET);
  attempts.emplace_back("capset", SysResult(cap_set_proc(caps)));
  cap_free(caps);
  attempts.emplace_back("ambient", SysResult(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN, 0, 0)));
  return {"EPERM", Combine(attempts)};
}

// The securebits are locked.
Outcome SecurebitsUnlock(const Args&) {
  return {"EPERM", SysResult(prctl(PR_SET_SECUREBITS, 0, 0, 0, 0))};
}

// no_new_privs cannot be cleared once set (the kernel only accepts 1).
Outcome NoNewPrivsClear(const Args&) {
  return {"EINVAL", SysResult(prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0))};
}

// The launcher runs as host root; the sandbox is a leased host uid without CAP_SYS_PTRACE.
Outcome PtraceLauncher(const Args&) {
  pid_t parent = getppid();
  long r = ptrace(PTRACE_ATTACH, parent, nullptr, nullptr);
  int err = errno;
  if (r == 0) ptrace(PTRACE_DETACH, parent, nullptr, nullptr);
  return {"EPERM", Result(r == 0, err)};
}

Outcome PtraceHostInit(const Args&) {
  long r = ptrace(PTRACE_ATTACH, 1, nullptr, nullptr);
  int err = errno;
  if (r == 0) ptrace(PTRACE_DETACH, 1, nullptr, nullptr);
  return {"EPERM", Result(r == 0, err)};
}

// In the default pid namespace the program is pid 2 and its parent is the sandbox's pid 1, which
// runs as the same user but changed its ids without exec'ing since, so it is not dumpable:
// tracing it needs CAP_SYS_PTRACE over its memory's (the initial) user namespace. Both are
// checked first: its real, effective and saved uids are the probe's, and its private /proc
// files belong to host root (shown as the overflow uid), which is how the kernel marks a
// process that is not dumpable.
Outcome PtraceSandboxInit(const Args&) {
  if (pid_t parent = getppid(); parent != 1) return {"EPERM", absl::StrCat("parent_is_", parent)};
  std::ifstream status("/proc/1/status");
  std::string line, uids = "?";
  while (std::getline(status, line)) {
    absl::string_view rest = line;
    if (absl::ConsumePrefix(&rest, "Uid:")) uids = std::string(absl::StripAsciiWhitespace(rest));
  }
  const std::string own = absl::StrCat(getuid());
  if (uids != absl::StrCat(own, "\t", own, "\t", own, "\t", own)) {
    return {"EPERM", absl::StrCat("pid1_uids_differ:", uids)};
  }
  struct stat environ_file;
  if (stat("/proc/1/environ", &environ_file) != 0) return {"EPERM", "stat:" + ErrnoName(errno)};
  if (environ_file.st_uid == getuid()) return {"EPERM", "pid1_is_dumpable"};
  long r = ptrace(PTRACE_ATTACH, 1, nullptr, nullptr);
  int err = errno;
  if (r == 0) ptrace(PTRACE_DETACH, 1, nullptr, nullptr);
  return {"EPERM", Result(r == 0, err)};
}

// Whether `pid` still runs (exists and is not a zombie).
bool StillRuns(pid_t pid) {
  std::optional<testing::ProcessStat> stat = testing::ReadProcessStat(pid);
  return stat.has_value() && stat->state != 'Z';
}

// Every process the sandbox can see, apart from the probe itself: trace it, steal its fd 0,
// SIGKILL it. In the default pid namespace only the sandbox's own pid 1 is visible (not tokenbox
// or anything else of the host); it cannot be traced or robbed (of its status pipe, say), and
// SIGKILL is accepted (same user) but discarded: pid 1 of a pid namespace gets no signal from
// inside it that it has no handler for. Were it killed, the whole namespace would die with it,
// probe included, and the test would see no result line. Refuses to run outside a pid namespace
// of its own, where it would signal host processes.
Outcome ScanPids(const Args&) {
  const std::string expected = "pid1:ptrace=EPERM,pidfd_getfd=EPERM,sigkill=ignored";
  if (pid_t parent = getppid(); parent != 1) {
    return {expected, absl::StrCat("not_in_its_own_pid_namespace(parent=", parent, ")")};
  }
  std::vector<pid_t> pids;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return {expected, "opendir:" + ErrnoName(errno)};
  while (dirent* entry = readdir(proc)) {
    pid_t pid = 0;
    if (absl::SimpleAtoi(entry->d_name, &pid) && pid != getpid()) pids.push_back(pid);
  }
  closedir(proc);
  std::sort(pids.begin(), pids.end());
  std::vector<std::string> results;
  for (pid_t pid : pids) {
    long traced = ptrace(PTRACE_ATTACH, pid, nullptr, nullptr);
    std::string ptrace_result = Result(traced == 0, errno);
    if (traced == 0) ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
    std::string getfd_result;
    UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd) {
      getfd_result = "pidfd_open:" + ErrnoName(errno);
    } else {
      getfd_result = SysResult(syscall(SYS_pidfd_getfd, pidfd.get(), 0, 0));
    }
    std::string kill_result;
    if (kill(pid, SIGKILL) != 0) {
      kill_result = ErrnoName(errno);
    } else {
      absl::SleepFor(absl::Milliseconds(200));
      kill_result = StillRuns(pid) ? "ignored" : "killed";
    }
    results.push_back(absl::StrCat("pid", pid, ":ptrace=", ptrace_result,
                                   ",pidfd_getfd=", getfd_result, ",sigkill=", kill_result));
  }
  return {expected, results.empty() ? "nothing_visible" : absl::StrJoin(results, ";")};
}

// Stealing one of the launcher's fds: pidfd_getfd needs ptrace-attach rights over it.
Outcome PidfdGetfdLauncher(const Args&) {
  long pidfd = syscall(SYS_pidfd_open, getppid(), 0);
  if (pidfd < 0) return {"EPERM", "pidfd_open:" + ErrnoName(errno)};
  std::vector<std::pair<std::string, std::string>> attempts;
  for (int fd : {0, 1, 2, 3}) {
    attempts.emplace_back(absl::StrCat("fd", fd),
                          SysResult(syscall(SYS_pidfd_getfd, pidfd, fd, 0)));
  }
  return {"EPERM", Combine(attempts)};
}

// Signalling host processes (signal 0: only the permission check).
Outcome KillHost(const Args&) {
  std::vector<std::pair<std::string, std::string>> attempts;
  attempts.emplace_back("pid1", SysResult(kill(1, 0)));
  attempts.emplace_back("launcher", SysResult(kill(getppid(), 0)));
  return {"EPERM", Combine(attempts)};
}

Outcome ReadShadow(const Args&) {
  return {"EACCES", SysResult(open("/etc/shadow", O_RDONLY | O_CLOEXEC))};
}

// open_by_handle_at bypasses path permissions, so it needs CAP_DAC_READ_SEARCH on the host.
Outcome OpenByHandle(const Args&) {
  struct {
    file_handle handle;
    unsigned char bytes[MAX_HANDLE_SZ];
  } h;
  h.handle.handle_bytes = MAX_HANDLE_SZ;
  int mount_id = 0;
  if (name_to_handle_at(AT_FDCWD, "/etc/shadow", &h.handle, &mount_id, 0) != 0) {
    return {"EPERM", "name_to_handle_at:" + ErrnoName(errno)};
  }
  UniqueFd root(open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) return {"EPERM", "open_/:" + ErrnoName(errno)};
  return {"EPERM", SysResult(open_by_handle_at(root.get(), &h.handle, O_RDONLY | O_CLOEXEC))};
}

Outcome WriteProcSys(const Args&) {
  std::vector<std::pair<std::string, std::string>> attempts;
  for (const char* path : {"/proc/sys/kernel/hostname", "/proc/sys/vm/drop_caches",
                           "/proc/sys/kernel/core_pattern"}) {
    attempts.emplace_back(path, SysResult(open(path, O_WRONLY | O_CLOEXEC)));
  }
  return {"EACCES", Combine(attempts)};
}

// Only 0, 1, 2 and the token may be open; the test leaves non-close-on-exec fds open in the
// launcher's environment (one on /etc/shadow, opened as root), which must not arrive here.
Outcome InheritedFds(const Args&) {
  const int token = TokenFd();
  std::vector<int> open_fds;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return {"0,1,2,token", "opendir:" + ErrnoName(errno)};
  while (dirent* entry = readdir(dir)) {
    int fd = -1;
    if (absl::SimpleAtoi(entry->d_name, &fd) && fd != dirfd(dir)) open_fds.push_back(fd);
  }
  closedir(dir);  // Before looking at any fd, so that no fd of ours is listed.
  std::sort(open_fds.begin(), open_fds.end());
  std::vector<std::string> fds;
  for (int fd : open_fds) {
    if (fd <= 2) {
      fds.push_back(absl::StrCat(fd));
      continue;
    }
    if (fd == token) {
      std::ifstream fdinfo(absl::StrCat("/proc/self/fdinfo/", fd));
      std::string text((std::istreambuf_iterator<char>(fdinfo)), std::istreambuf_iterator<char>());
      fds.push_back(text.find("allowed_cmds:") != std::string::npos
                        ? "token"
                        : absl::StrCat(fd, "(not_a_token)"));
      continue;
    }
    char target[512] = {};
    ssize_t n = readlink(absl::StrCat("/proc/self/fd/", fd).c_str(), target, sizeof(target) - 1);
    fds.push_back(absl::StrCat(fd, "(", n > 0 ? target : "?", ")"));
  }
  return {"0,1,2,token", absl::StrJoin(fds, ",")};
}

// setgroups is denied in the sandbox's user namespace (setgroups=deny) and needs CAP_SETGID.
Outcome Setgroups(const Args&) {
  return {"EPERM", SysResult(setgroups(0, nullptr))};
}

// With only CAP_BPF nothing about the mount tree can change: mount, unmount (which would
// uncover the host's /sys/fs/bpf), clone, move, pivot_root, chroot.
Outcome MountDirect(const Args&) {
  std::vector<std::pair<std::string, std::string>> attempts;
  attempts.emplace_back("mount_tmpfs_on_/", SysResult(mount("tokenbox-escape", "/", "tmpfs", 0, nullptr)));
  attempts.emplace_back("remount_/_ro", SysResult(mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr)));
  attempts.emplace_back("umount_/sys/fs/bpf", SysResult(umount2("/sys/fs/bpf", MNT_DETACH)));
  attempts.emplace_back("open_tree_clone_/", SysResult(syscall(SYS_open_tree, AT_FDCWD, "/",
                                                               OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)));
  attempts.emplace_back("move_mount_/sys/fs/bpf",
                        SysResult(syscall(SYS_move_mount, AT_FDCWD, "/sys/fs/bpf", AT_FDCWD, "/tmp", 0)));
  attempts.emplace_back("pivot_root", SysResult(syscall(SYS_pivot_root, "/tmp", "/tmp")));
  attempts.emplace_back("chroot", SysResult(chroot("/tmp")));
  return {"EPERM", Combine(attempts)};
}

// After unshare(CLONE_NEWUSER|CLONE_NEWNS) a mount over / and /tmp succeeds, in the nested mount
// namespace only. A child holds the nested namespace open while the test looks at the host:
// the probe prints "nested-mount-ready pid=PID" and waits for end-of-file on stdin. The
// probe checks the sandbox's own mount table; the test checks the host's.
Outcome MountNested(const Args& args) {
  const std::string expected = "nested-only";
  if (args.empty()) return {expected, "missing_marker"};
  const std::string& marker = args[0];
  absl::StatusOr<Pipe> ready = MakePipe();
  if (!ready.ok()) return {expected, "pipe2:" + ErrnoName(ErrnoOf(ready.status()))};
  std::fflush(nullptr);
  pid_t child = fork();
  if (child < 0) return {expected, "fork:" + ErrnoName(errno)};
  if (child == 0) {
    ready->read_end.Reset();
    std::string result = EnterNestedNamespaces();
    if (result == "OK") {
      bool on_root = mount(marker.c_str(), "/", "tmpfs", 0, "size=64k") == 0;
      std::string root_result = Result(on_root, errno);
      bool on_tmp = mount(marker.c_str(), "/tmp", "tmpfs", 0, "size=64k") == 0;
      std::string tmp_result = Result(on_tmp, errno);
      result = on_root && on_tmp && MountinfoContains(marker)
                   ? "mounted"
                   : absl::StrCat("mount_/:", root_result, ",mount_/tmp:", tmp_result);
    } else {
      result = "unshare:" + result;
    }
    (void)!write(ready->write_end.get(), result.data(), result.size());
    ready->write_end.Reset();
    char byte;
    while (read(0, &byte, 1) > 0) {
    }
    _exit(0);
  }
  ready->write_end.Reset();
  char buffer[256] = {};
  ssize_t n = read(ready->read_end.get(), buffer, sizeof(buffer) - 1);
  ready->read_end.Reset();
  std::string nested = n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "child_died";
  const bool leaked_into_sandbox = MountinfoContains(marker);
  std::printf("nested-mount-ready pid=%d\n", child);
  std::fflush(stdout);
  int status = 0;
  waitpid(child, &status, 0);
  if (nested != "mounted") return {expected, "nested:" + nested};
  if (leaked_into_sandbox) return {expected, "visible_in_the_sandbox_mount_namespace"};
  return {expected, "nested-only"};
}

// Mounts copied into a less privileged mount namespace are locked together: the nested
// namespace cannot unmount the delegated bpffs to uncover what lies beneath.
Outcome UmountNestedBpffs(const Args&) {
  if (std::string r = EnterNestedNamespaces(); r != "OK") return {"EINVAL", "unshare:" + r};
  return {"EINVAL", SysResult(umount2("/sys/fs/bpf", MNT_DETACH))};
}

using Probe = std::function<Outcome(const Args&)>;

const std::map<std::string, Probe>& Probes() {
  static const auto* probes = new std::map<std::string, Probe>{
      {"second-bpffs-fsopen", SecondBpffsFsopen},
      {"second-bpffs-nested-delegate", SecondBpffsNestedDelegate},
      {"second-bpffs-nested-create", SecondBpffsNestedCreate},
      {"delegated-bpffs-token-from-nested-userns", DelegatedBpffsTokenFromNestedUserns},
      {"fspick-delegated-bpffs", FspickDelegatedBpffs},
      {"fspick-nested-delegate", FspickNestedDelegate},
      {"host-bpffs-token", HostBpffsToken},
      {"host-bpffs-via-proc-root", HostBpffsViaProcRoot},
      {"host-bpffs-at-sys-fs-bpf", HostBpffsAtSysFsBpf},
      {"map-undelegated-with-token", [](const Args&) { return UndelegatedMap(true); }},
      {"map-undelegated-without-token", [](const Args&) { return UndelegatedMap(false); }},
      {"prog-undelegated-with-token", [](const Args&) { return UndelegatedProg(true); }},
      {"prog-undelegated-without-token", [](const Args&) { return UndelegatedProg(false); }},
      {"attach-undelegated-with-token", [](const Args&) { return UndelegatedAttach(true); }},
      {"attach-undelegated-without-token", [](const Args&) { return UndelegatedAttach(false); }},
      {"exec-file-caps", ExecFileCaps},
      {"exec-setuid-root", ExecSetuidRoot},
      {"exec-self", ExecSelf},
      {"capset-raise", CapsetRaise},
      {"securebits-unlock", SecurebitsUnlock},
      {"no-new-privs-clear", NoNewPrivsClear},
      {"ptrace-launcher", PtraceLauncher},
      {"ptrace-host-init", PtraceHostInit},
      {"ptrace-sandbox-init", PtraceSandboxInit},
      {"scan-pids", ScanPids},
      {"pidfd-getfd-launcher", PidfdGetfdLauncher},
      {"kill-host", KillHost},
      {"read-shadow", ReadShadow},
      {"open-by-handle", OpenByHandle},
      {"write-proc-sys", WriteProcSys},
      {"inherited-fds", InheritedFds},
      {"setgroups", Setgroups},
      {"mount-direct", MountDirect},
      {"mount-nested", MountNested},
      {"umount-nested-bpffs", UmountNestedBpffs},
  };
  return *probes;
}

// Helpers that are not probes: what an exec'd copy reports, and a program that stays.
int ReportCredentials() {
  std::printf("%s\n", OwnCredentials().c_str());
  return 0;
}

// Sleeps until killed; with "forked", a child of it does too (in the same process group). With
// "escaping", each undoes what is its own to undo: it clears its parent-death signal and leaves
// its process group (a session leader, which cannot, already leads one).
bool Escape() {
  return prctl(PR_SET_PDEATHSIG, 0) == 0 && (setpgid(0, 0) == 0 || errno == EPERM);
}

int SleepForever(bool forked, bool escaping = false) {
  if (escaping && !Escape()) return 1;
  if (forked && fork() < 0) return 1;
  if (escaping && !Escape()) return 1;
  std::printf("sleeping pid=%d\n", getpid());
  std::fflush(stdout);
  for (;;) pause();
}

}  // namespace
}  // namespace tokenbox

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: escape_probe PROBE [ARG]\n");
    return 2;
  }
  const std::string name = argv[1];
  if (name == "report-credentials") return tokenbox::ReportCredentials();
  if (name == "sleep-forever") return tokenbox::SleepForever(false);
  if (name == "sleep-forever-forked") return tokenbox::SleepForever(true);
  if (name == "sleep-forever-escaping") return tokenbox::SleepForever(true, /*escaping=*/true);
  auto probe = tokenbox::Probes().find(name);
  if (probe == tokenbox::Probes().end()) {
    std::fprintf(stderr, "escape_probe: unknown probe '%s'\n", name.c_str());
    return 2;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  auto [expected, observed] = probe->second(args);
  std::printf("probe=%s expected=%s observed=%s\n", name.c_str(), expected.c_str(),
              observed.c_str());
  std::fflush(stdout);
  return observed == expected ? 0 : 1;
}
