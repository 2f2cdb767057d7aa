// The one table of tokenbox's options: every option of run, fuzz and explain, each stated once
// with the commands that take it (tools/sandbox_flags.h). The defaults they give up are in
// sandbox_defaults.cc.
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "token/delegation_policy.h"
#include "tools/deny_syscalls_option.h"
#include "tools/option_values.h"
#include "tools/rlimit_option.h"
#include "tools/sandbox_flags.h"
#include "tools/seccomp_file.h"

namespace tokenbox {
namespace {

absl::Status Ok() { return absl::OkStatus(); }

// A host id, or `self`: tokenbox's own (`own`).
absl::Status SetId(const std::string& value, const char* option, uint32_t own,
                   std::optional<uint32_t>& id) {
  if (value == "self") {
    id = own;
    return Ok();
  }
  absl::StatusOr<uint32_t> parsed = ParseId(value, option);
  if (!parsed.ok()) return parsed.status();
  id = *parsed;
  return Ok();
}

absl::Status AddRanges(const std::string& value, const char* option, std::vector<IdRange>& ranges) {
  absl::StatusOr<IdMap> map = IdMap::Parse(value);
  if (!map.ok()) return absl::InvalidArgumentError(absl::StrCat(option, ": ", map.status().message()));
  ranges.insert(ranges.end(), map->ranges().begin(), map->ranges().end());
  return Ok();
}

// One seccomp filter per sandbox, from either option; a second would replace the first.
absl::Status SetSeccompFilter(const char* option, absl::StatusOr<std::vector<sock_filter>> filter,
                              SandboxRequest& request) {
  if (!filter.ok()) return filter.status();
  if (request.seccomp_option != nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(option, ": a seccomp filter was given already (",
                                                   request.seccomp_option, "); give one"));
  }
  request.seccomp_option = option;
  request.sandbox.SeccompFilter(*std::move(filter));
  return Ok();
}

// A delegation option, at most once and with a list: an empty one most likely comes from a
// variable that expanded to "", and given twice, one would silently replace the other.
absl::Status CheckGivenOnce(const ParsedOption& o, SandboxRequest& r, absl::string_view empty_means) {
  if (std::find(r.given_once.begin(), r.given_once.end(), o.name) != r.given_once.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("option '--", o.name, "' is given twice; list every item in one option"));
  }
  if (o.value.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("option '--", o.name, "' has an empty list; leave the option out to ",
                     empty_means));
  }
  r.given_once.push_back(o.name);
  return Ok();
}

absl::Status Delegate(DelegateKind kind, const ParsedOption& o, SandboxRequest& r) {
  if (absl::Status s = CheckGivenOnce(o, r, "delegate none of these"); !s.ok()) return s;
  absl::StatusOr<DelegateMask> mask = ParseDelegateMask(kind, o.value);
  if (!mask.ok()) return mask.status();
  r.policy[kind] = *mask;
  return Ok();
}

absl::Status KeepCaps(const ParsedOption& o, SandboxRequest& r) {
  if (absl::Status s = CheckGivenOnce(o, r, "keep only cap_bpf"); !s.ok()) return s;
  absl::StatusOr<CapabilitySet> caps = CapabilitySet::Parse(o.value);
  if (!caps.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--keep-caps: ", caps.status().message()));
  }
  r.kept_caps = *caps;
  return Ok();
}

constexpr FlagSection kPolicy = FlagSection::kPolicy;
constexpr FlagSection kSandbox = FlagSection::kSandbox;
constexpr unsigned kEveryCommand = kRunFlag | kFuzzFlag | kExplainFlag;

const SandboxFlag kFlags[] = {
    {"delegate-cmds", "LIST", "commands, e.g. map_create:prog_load:btf_load",
     kPolicy, kEveryCommand,
     [](const ParsedOption& o, SandboxRequest& r) { return Delegate(DelegateKind::kCmds, o, r); }},
    {"delegate-maps", "LIST", "map types, e.g. hash:array:ringbuf",
     kPolicy, kEveryCommand,
     [](const ParsedOption& o, SandboxRequest& r) { return Delegate(DelegateKind::kMaps, o, r); }},
    {"delegate-progs", "LIST", "program types, e.g. socket_filter:xdp",
     kPolicy, kEveryCommand,
     [](const ParsedOption& o, SandboxRequest& r) { return Delegate(DelegateKind::kProgs, o, r); }},
    {"delegate-attachs", "LIST", "attach types, e.g. any or cgroup_inet_ingress",
     kPolicy, kEveryCommand,
     [](const ParsedOption& o, SandboxRequest& r) { return Delegate(DelegateKind::kAttachs, o, r); }},
    {"keep-caps", "LIST", "capabilities kept besides CAP_BPF, e.g. net_admin,perfmon",
     kPolicy, kEveryCommand, KeepCaps},
    {"bpffs", "PATH", "mount the delegated bpffs at PATH inside (default /sys/fs/bpf)",
     kSandbox, kRunFlag,
     [](const ParsedOption& o, SandboxRequest& r) { r.sandbox.BpffsPath(o.value); return Ok(); }},
    {"no-bpffs", nullptr, "mount it nowhere; only the token fd is passed",
     kSandbox, kRunFlag,
     [](const ParsedOption&, SandboxRequest& r) { r.sandbox.NoBpffs(); return Ok(); }},
    {"uid", "ID",
     "the host user the sandbox's root maps to (default: one leased for\n"
     "this run, that no other process has; \"self\": tokenbox's own); a uid\n"
     "the sandbox shares lets it signal and trace that user's processes,\n"
     "read what that user can read, and shares their counts",
     kSandbox, kRunFlag | kFuzzFlag,
     [](const ParsedOption& o, SandboxRequest& r) {
       return SetId(o.value, "--uid", getuid(), r.uid);
     }},
    {"gid", "ID",
     "the host group the sandbox's root maps to (default: the leased id;\n"
     "\"self\": tokenbox's own)",
     kSandbox, kRunFlag | kFuzzFlag,
     [](const ParsedOption& o, SandboxRequest& r) {
       return SetId(o.value, "--gid", getgid(), r.gid);
     }},
    {"map-users", "IN:OUT:COUNT", "map a uid range instead (repeatable; must map inside uid 0)",
     kSandbox, kRunFlag,
     [](const ParsedOption& o, SandboxRequest& r) { return AddRanges(o.value, "--map-users", r.user_ranges); }},
    {"map-groups", "IN:OUT:COUNT", "map a gid range instead (repeatable; must map inside gid 0)",
     kSandbox, kRunFlag,
     [](const ParsedOption& o, SandboxRequest& r) { return AddRanges(o.value, "--map-groups", r.group_ranges); }},
    {"share-net", nullptr,
     "share tokenbox's network namespace: the program reaches the host's\n"
     "network, its loopback services and other sandboxes' abstract sockets\n"
     "(refused with program types that attach to a network namespace)",
     kSandbox, kRunFlag,
     [](const ParsedOption&, SandboxRequest& r) { r.namespaces.net = false; return Ok(); }},
    {"share-ipc", nullptr,
     "share tokenbox's IPC namespace: SysV IPC and POSIX message queues\n"
     "outlive the sandbox, and other sandboxes can read them",
     kSandbox, kRunFlag,
     [](const ParsedOption&, SandboxRequest& r) { r.namespaces.ipc = false; return Ok(); }},
    {"share-uts", nullptr, "share tokenbox's hostname (default: \"tokenbox\")",
     kSandbox, kRunFlag,
     [](const ParsedOption&, SandboxRequest& r) { r.namespaces.uts = false; return Ok(); }},
    {"share-cgroup", nullptr,
     "share tokenbox's cgroup namespace, with no cgroup of its own: the\n"
     "host's cgroup hierarchies show, and processes the program leaves\n"
     "behind are not killed with its cgroup (refused with program types\n"
     "that attach to cgroups)",
     kSandbox, kRunFlag,
     [](const ParsedOption&, SandboxRequest& r) { r.namespaces.cgroup = false; return Ok(); }},
    {"unshare-net", nullptr, "new network namespace, loopback up (the default)",
     kSandbox, kRunFlag,
     [](const ParsedOption&, SandboxRequest& r) { r.namespaces.net = true; return Ok(); }},
    {"unshare-pid", nullptr,
     "new pid namespace with its own /proc, the program as pid 2 under\n"
     "a tiny init (the default)",
     kSandbox, kRunFlag,
     [](const ParsedOption&, SandboxRequest& r) { r.namespaces.pid = true; return Ok(); }},
    {"no-unshare-pid", nullptr,
     "share tokenbox's pid namespace instead: faster to start, but the\n"
     "program sees every host process and its command line (passwords in\n"
     "argv); what it forks ends with its cgroup or its leased uid, not\n"
     "with the namespace (with --uid and --share-cgroup as well, it can\n"
     "outlive a SIGKILLed tokenbox)",
     kSandbox, kRunFlag,
     [](const ParsedOption&, SandboxRequest& r) { r.namespaces.pid = false; return Ok(); }},
    {"as-pid1", nullptr, "the program itself is pid 1 of its pid namespace",
     kSandbox, kRunFlag,
     [](const ParsedOption&, SandboxRequest& r) { r.program_is_pid1 = true; return Ok(); }},
    {"unshare-ipc", nullptr, "new IPC namespace (the default)",
     kSandbox, kRunFlag,
     [](const ParsedOption&, SandboxRequest& r) { r.namespaces.ipc = true; return Ok(); }},
    {"unshare-uts", nullptr, "new UTS namespace, hostname \"tokenbox\" (the default)",
     kSandbox, kRunFlag,
     [](const ParsedOption&, SandboxRequest& r) { r.namespaces.uts = true; return Ok(); }},
    {"unshare-cgroup", nullptr, "new cgroup namespace (the default)",
     kSandbox, kRunFlag,
     [](const ParsedOption&, SandboxRequest& r) { r.namespaces.cgroup = true; return Ok(); }},
    {"share-session", nullptr,
     "stay in tokenbox's session, with its controlling terminal: the program\n"
     "can push input into that terminal (TIOCSTI), which the shell that ran\n"
     "tokenbox reads after it exits, and make itself the terminal's foreground",
     kSandbox, kRunFlag,
     [](const ParsedOption&, SandboxRequest& r) { r.sandbox.ShareSession(); return Ok(); }},
    {"share-keyring", nullptr,
     "keep tokenbox's session keyring instead of a fresh one: the program\n"
     "can read, use and link keys in it (root's, as tokenbox runs as root)",
     kSandbox, kRunFlag,
     [](const ParsedOption&, SandboxRequest& r) { r.sandbox.ShareSessionKeyring(); return Ok(); }},
    {"allow-host-tracing", nullptr,
     "let delegated tracing, LSM and struct_ops programs, with\n"
     "--keep-caps=perfmon, observe and change the whole machine (refused\n"
     "without this: no namespace confines them)",
     kSandbox, kRunFlag,
     [](const ParsedOption&, SandboxRequest& r) { r.sandbox.AllowHostWideTracing(); return Ok(); }},
    {"allow-sys-admin", nullptr,
     "let --keep-caps name sys_admin, with which the program can mount\n"
     "over the read-only host and its private /proc",
     kSandbox, kRunFlag,
     [](const ParsedOption&, SandboxRequest& r) { r.sandbox.AllowSysAdmin(); return Ok(); }},
    {"allow-host-root", nullptr,
     "let --uid, --gid or a map include host id 0: what the sandbox writes\n"
     "is then host root's",
     kSandbox, kRunFlag,
     [](const ParsedOption&, SandboxRequest& r) { r.sandbox.AllowHostRoot(); return Ok(); }},
    {"timeout", "DURATION",
     "kill the whole sandbox after DURATION (30s, 1.5m, 500ms; plain\n"
     "numbers are seconds), also while tokenbox is stopped",
     kSandbox, kRunFlag | kFuzzFlag,
     [](const ParsedOption& o, SandboxRequest& r) {
       absl::StatusOr<absl::Duration> timeout = ParseTimeout(o.value);
       if (!timeout.ok()) return timeout.status();
       r.command.Timeout(*timeout);
       return Ok();
     }},
    {"read-only-host", nullptr, "the host is read-only inside (the default; kept for old command lines)",
     kSandbox, kRunFlag,
     [](const ParsedOption&, SandboxRequest&) { return Ok(); }},
    {"private-tmp", nullptr,
     "/tmp is a fresh tmpfs that only the sandbox sees (the default, as are\n"
     "/var/tmp, /dev/shm and /run; kept for old command lines)",
     kSandbox, kRunFlag,
     [](const ParsedOption&, SandboxRequest&) { return Ok(); }},
    {"writable", "DIR", "bind the host's DIR writable at the same place (--bind DIR DIR)",
     kSandbox, kRunFlag,
     [](const ParsedOption& o, SandboxRequest& r) { r.sandbox.Bind(o.value, o.value); return Ok(); }},
    {"empty-root", nullptr,
     "start from an empty root instead of the host's read-only tree, so that\n"
     "only what the operations below bind exists (the bpffs path and --proc\n"
     "mount points are made in it)",
     kSandbox, kRunFlag,
     [](const ParsedOption&, SandboxRequest& r) { r.sandbox.EmptyRoot(); return Ok(); }},
    {"bind", "SRC DEST",
     "bind the host's SRC at DEST, writable where the sandbox's user may\n"
     "write on the host (nosuid, nodev); tokenbox resolves SRC (relative to\n"
     "its own directory), following a symlink only where root alone could\n"
     "have placed it",
     kSandbox, kRunFlag,
     [](const ParsedOption& o, SandboxRequest& r) {
       r.sandbox.Bind(HostPath(o.value), o.second_value);
       return Ok();
     }},
    {"ro-bind", "SRC DEST", "the same, read-only",
     kSandbox, kRunFlag,
     [](const ParsedOption& o, SandboxRequest& r) {
       r.sandbox.ReadOnlyBind(HostPath(o.value), o.second_value);
       return Ok();
     }},
    {"tmpfs", "DEST", "a fresh tmpfs at DEST",
     kSandbox, kRunFlag,
     [](const ParsedOption& o, SandboxRequest& r) { r.sandbox.Tmpfs(o.value); return Ok(); }},
    {"dir", "DEST", "make the directory DEST (in one of the sandbox's tmpfs mounts)",
     kSandbox, kRunFlag,
     [](const ParsedOption& o, SandboxRequest& r) { r.sandbox.Dir(o.value); return Ok(); }},
    {"symlink", "TARGET DEST", "make DEST a symlink to TARGET (likewise)",
     kSandbox, kRunFlag,
     [](const ParsedOption& o, SandboxRequest& r) {
       r.sandbox.Symlink(o.value, o.second_value);
       return Ok();
     }},
    {"dev", "DEST",
     "a minimal /dev at DEST: null, zero, full, random, urandom, tty, shm,\n"
     "and the sandbox's own devpts with ptmx",
     kSandbox, kRunFlag,
     [](const ParsedOption& o, SandboxRequest& r) { r.sandbox.Dev(o.value); return Ok(); }},
    {"proc", "DEST", "the sandbox's /proc at DEST (needs its pid namespace)",
     kSandbox, kRunFlag,
     [](const ParsedOption& o, SandboxRequest& r) { r.sandbox.Proc(o.value); return Ok(); }},
    {"remount-ro", "DEST", "make the mount at DEST read-only (not those below it)",
     kSandbox, kRunFlag,
     [](const ParsedOption& o, SandboxRequest& r) { r.sandbox.RemountReadOnly(o.value); return Ok(); }},
    {"memory-max", "SIZE",
     "limit the sandbox's memory, kernel memory and BPF maps included, to\n"
     "SIZE (bytes, or with K, M, G, T) by a cgroup of its own",
     kSandbox, kRunFlag | kFuzzFlag,
     [](const ParsedOption& o, SandboxRequest& r) {
       absl::StatusOr<uint64_t> bytes = ParseSize(o.value, "--memory-max");
       if (!bytes.ok()) return bytes.status();
       r.sandbox.MemoryMax(*bytes);
       return Ok();
     }},
    {"pids-max", "N",
     "limit the sandbox to N processes and threads at once (default 4096,\n"
     "so that a fork bomb is bounded; \"max\" for no limit)",
     kSandbox, kRunFlag | kFuzzFlag,
     [](const ParsedOption& o, SandboxRequest& r) {
       if (o.value == "max") {
         r.sandbox.PidsMax(std::nullopt);
         return Ok();
       }
       absl::StatusOr<uint64_t> pids = ParseCount(o.value, "--pids-max");
       if (!pids.ok()) return pids.status();
       r.sandbox.PidsMax(*pids);
       return Ok();
     }},
    {"cpu-max", "PERCENT",
     "limit the sandbox's CPU time to PERCENT of one CPU (50: half of one,\n"
     "200: two)",
     kSandbox, kRunFlag | kFuzzFlag,
     [](const ParsedOption& o, SandboxRequest& r) {
       absl::StatusOr<uint64_t> percent = ParseCount(o.value, "--cpu-max", 100000);
       if (!percent.ok()) return percent.status();
       r.sandbox.CpuMax(static_cast<uint32_t>(*percent));
       return Ok();
     }},
    {"seccomp", "FILE",
     "run the program under the compiled seccomp filter in FILE (classic\n"
     "BPF, as libseccomp's seccomp_export_bpf() writes and bwrap --seccomp\n"
     "reads), installed last before exec: it must allow execve",
     kSandbox, kRunFlag,
     [](const ParsedOption& o, SandboxRequest& r) {
       return SetSeccompFilter("--seccomp", ReadSeccompFile(o.value), r);
     }},
    {"deny-syscalls", "NAME[:ERRNO],...",
     "run the program under a seccomp filter in which each named system\n"
     "call fails with its errno (EPERM if none is named) and every other\n"
     "is allowed: --deny-syscalls=ptrace,io_setup:ENOSYS",
     kSandbox, kRunFlag,
     [](const ParsedOption& o, SandboxRequest& r) {
       return SetSeccompFilter("--deny-syscalls", DenySyscallsFilter(o.value), r);
     }},
    {"rlimit", "NAME=SOFT[:HARD]",
     "set a resource limit of the program, named as prlimit(1) does\n"
     "(nofile, nproc, as, core, ...); one value sets both, \"SOFT:\" or\n"
     "\":HARD\" keeps the other at tokenbox's own; \"unlimited\" (repeatable)",
     kSandbox, kRunFlag | kFuzzFlag,
     [](const ParsedOption& o, SandboxRequest& r) {
       absl::StatusOr<ResourceLimit> limit = ParseRlimitOption(o.value);
       if (!limit.ok()) return limit.status();
       r.command.ResourceLimitOf(limit->resource, limit->soft, limit->hard);
       return Ok();
     }},
    {"chdir", "DIR",
     "working directory inside (default: tokenbox's own, entered by path as\n"
     "the sandbox's user, or / when that user may not enter it)",
     kSandbox, kRunFlag,
     [](const ParsedOption& o, SandboxRequest& r) { r.command.WorkingDirectory(o.value); return Ok(); }},
    {"setenv", "KEY=VALUE", "set a variable in the program's environment (default: tokenbox's own)",
     kSandbox, kRunFlag | kFuzzFlag,
     [](const ParsedOption& o, SandboxRequest& r) {
       size_t eq = o.value.find('=');
       if (eq == std::string::npos) {
         return absl::InvalidArgumentError(
             absl::StrCat("--setenv: '", Printable(o.value), "' is not KEY=VALUE"));
       }
       r.command.SetEnv(o.value.substr(0, eq), o.value.substr(eq + 1));
       return Ok();
     }},
    {"unsetenv", "KEY", "remove a variable from it",
     kSandbox, kRunFlag | kFuzzFlag,
     [](const ParsedOption& o, SandboxRequest& r) { r.command.UnsetEnv(o.value); return Ok(); }},
    {"clearenv", nullptr, "start it empty (--setenv adds to it in any order)",
     kSandbox, kRunFlag | kFuzzFlag,
     [](const ParsedOption&, SandboxRequest& r) { r.command.ClearEnvironment(); return Ok(); }},
    {"pty", nullptr,
     "give the program a pseudo-terminal of its own as stdin, stdout, stderr\n"
     "and controlling terminal, relayed to tokenbox's (as systemd-run --pty):\n"
     "a shell inside gets job control, and tokenbox's terminal stays out of\n"
     "its reach; tokenbox's terminal is in raw mode meanwhile",
     kSandbox, kRunFlag,
     [](const ParsedOption&, SandboxRequest& r) { r.pty = true; return Ok(); }},
    {"verbose", nullptr, "print each set-up step and its time to stderr",
     kSandbox, kRunFlag | kFuzzFlag,
     [](const ParsedOption&, SandboxRequest& r) { r.launch.verbose = true; return Ok(); }},
    {"via-fork-server", nullptr,
     "launch through a fork server (sandbox::ForkServer) prepared for\n"
     "this one run: slower, but the same sandbox as a fork-server launch,\n"
     "for checking one against the other",
     kSandbox, kRunFlag,
     [](const ParsedOption&, SandboxRequest& r) { r.via_fork_server = true; return Ok(); }},
    {"help", nullptr, "print this help",
     kSandbox, kRunFlag | kFuzzFlag | kExplainFlag,
     [](const ParsedOption&, SandboxRequest&) { return Ok(); }},
};


}  // namespace

absl::Span<const SandboxFlag> AllSandboxFlags() { return kFlags; }

}  // namespace tokenbox
