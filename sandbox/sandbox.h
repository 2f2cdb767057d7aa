#ifndef TOKENBOX_SANDBOX_SANDBOX_H_
#define TOKENBOX_SANDBOX_SANDBOX_H_

#include <linux/filter.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ns/id_map.h"
#include "token/capability_set.h"
#include "token/delegation_policy.h"

namespace tokenbox {

// The namespaces a sandbox gets besides the user and mount namespaces it always has. Each is on
// by default; turning one off shares the launcher's, and gives up what its comment says.
struct NewNamespaces {
  // A pid namespace with its own /proc: it is what makes the whole sandbox die with its
  // launcher, even a SIGKILLed one, and a timeout reach everything the program started. Shared,
  // a process the program forks (or that leaves its process group) can outlive a launcher that
  // was SIGKILLed, and the host's processes and their command lines are in view.
  bool pid = true;
  // A network namespace with only loopback, brought up. Shared, the program reaches the host's
  // network and every service on its loopback, talks to other sandboxes over abstract unix
  // sockets, and attaches delegated network programs (sk_lookup, XDP, tc) to the host's.
  bool net = true;
  // An IPC namespace. Shared, its SysV IPC objects and POSIX message queues outlive it, other
  // sandboxes can read them, and it can exhaust the host's (root's mq_open failed with EMFILE).
  bool ipc = true;
  // A UTS namespace, hostname "tokenbox". Shared, the program sees the host's name.
  bool uts = true;
  // A cgroup of its own (cgroup v2, below the launcher's), as the root of a cgroup namespace:
  // /sys/fs/cgroup shows only that cgroup, so delegated cgroup programs attach to the sandbox's
  // processes alone, and what is left in it is killed when it is removed after the sandbox.
  // Shared, the host's hierarchies show (and cgroup program types are refused).
  bool cgroup = true;
};

// One step of the sandbox's filesystem view: bubblewrap's operations, with its names.
struct MountOperation {
  enum class Kind {
    kBind,             // The host's `source` at `destination`, writable as on the host.
    kReadOnlyBind,     // The same, read-only.
    kTmpfs,            // A fresh tmpfs.
    kDir,              // A directory, made in one of the sandbox's own tmpfs mounts.
    kSymlink,          // A symlink to `source`, made likewise.
    kDev,              // A minimal /dev: null, zero, full, random, urandom, tty, a private
                       // devpts (the sandbox's), ptmx and shm.
    kProc,             // The sandbox's /proc; it needs a pid namespace.
    kRemountReadOnly,  // The mount at `destination` read-only (not those below it).
  };
  Kind kind;
  std::string source;       // kBind and kReadOnlyBind: a host path; kSymlink: the link's text.
  std::string destination;  // Absolute, inside the sandbox.
};

// What of the host's filesystem the sandbox sees. By default, the host's tree read-only, with
// fresh tmpfs mounts on /tmp, /var/tmp, /dev/shm and /run that only the sandbox sees and that
// vanish with it; with `empty_root`, an empty tmpfs instead of the host, so that only what the
// operations bind exists. Then the operations, in order. A mount point that does not exist is
// made in one of the sandbox's own tmpfs mounts, never on the host (else the launch fails).
struct FilesystemView {
  bool empty_root = false;
  std::vector<MountOperation> operations;
};

// What the sandbox may take of the machine, enforced by cgroups of its own (cgroup v2, or the
// v1 hierarchy that holds each controller). Kernel memory charged to the sandbox, BPF maps
// included, counts against memory_max. Each unset limit is none.
struct CgroupLimits {
  // A fork bomb is bounded with no option given. 4096 is room for a parallel build or a
  // fuzzer's -jobs, and well under the machine's pid_max.
  static constexpr uint64_t kDefaultPidsMax = 4096;
  std::optional<uint64_t> memory_max;   // Bytes.
  std::optional<uint64_t> pids_max = kDefaultPidsMax;
  std::optional<uint32_t> cpu_percent;  // Of one CPU: 50 is half of one, 200 two.
};

// What confines a program: its ids, its delegation, its capabilities, its namespaces and its
// view of the host. Made only by SandboxBuilder::Build(), so every Sandbox in existence is
// consistent; what runs in it is a Command (sandbox/command.h).
class Sandbox {
 public:
  // The id maps given; nullopt (the default) for a host id leased for each launch: one that no
  // other process and no other running sandbox has (sandbox/host_resources/host_id_lease.h).
  const std::optional<IdMap>& uid_map() const { return uid_map_; }
  const std::optional<IdMap>& gid_map() const { return gid_map_; }
  // The host uid the sandbox's root is, for messages that tell the user whose access counts;
  // in the launched child's copy, the leased one.
  uint32_t host_uid() const { return uid_map_.has_value() ? uid_map_->ToOutside(0).value_or(0) : 0; }
  const DelegationPolicy& policy() const { return policy_; }
  // Where the delegated bpffs is mounted inside; nullopt when only the token fd is passed.
  const std::optional<std::string>& bpffs_path() const { return bpffs_path_; }
  // The capabilities the program keeps: CAP_BPF plus what was asked for.
  CapabilitySet kept_capabilities() const { return kept_capabilities_; }
  const NewNamespaces& namespaces() const { return namespaces_; }
  // With a pid namespace: the program itself is pid 1 (else a tiny init is, and it is pid 2).
  bool program_is_pid1() const { return program_is_pid1_; }
  const FilesystemView& filesystem() const { return filesystem_; }
  // Whether the program keeps the launcher's session keyring instead of a fresh one of its own.
  bool shares_session_keyring() const { return shares_session_keyring_; }
  // Whether the program stays in the launcher's session, with its controlling terminal, instead
  // of a new session that has none.
  bool shares_session() const { return shares_session_; }
  // A seccomp filter the program runs under (empty: none), installed last before exec.
  const std::vector<sock_filter>& seccomp_filter() const { return seccomp_filter_; }
  const CgroupLimits& cgroup_limits() const { return cgroup_limits_; }

 private:
  friend class SandboxBuilder;
  friend class ParentSetup;  // Fills in the leased ids.
  Sandbox() = default;
  // This sandbox with inside id 0 mapped to `host_id` wherever no map was given.
  Sandbox WithLeasedIds(uint32_t host_id) const;

  std::optional<IdMap> uid_map_;
  std::optional<IdMap> gid_map_;
  DelegationPolicy policy_;
  std::optional<std::string> bpffs_path_;
  CapabilitySet kept_capabilities_;
  NewNamespaces namespaces_;
  bool program_is_pid1_ = false;
  FilesystemView filesystem_;
  bool shares_session_keyring_ = false;
  bool shares_session_ = false;
  std::vector<sock_filter> seccomp_filter_;
  CgroupLimits cgroup_limits_;
};

// Builds a Sandbox fluently; Build() reports every inconsistency at once, as one error.
//
//   absl::StatusOr<Sandbox> sandbox = SandboxBuilder()
//       .Policy(*ParseDelegationPolicy("prog_load:btf_load:map_create", "array",
//                                      "socket_filter", "any"))
//       .Build();
//
// Defaults: inner root mapped to a host uid and gid leased for each launch, that no other
// process has (sandbox/host_resources/host_id_lease.h), and its user namespace created by them; the bpffs at /sys/fs/bpf; only
// CAP_BPF kept; new pid (the program is pid 2 under a tiny init), network, IPC, UTS and cgroup
// namespaces; a new session without a controlling terminal; the host's filesystem read-only,
// with private /tmp, /var/tmp, /dev/shm and /run; a fresh session keyring.
class SandboxBuilder {
 public:
  SandboxBuilder();

  // Each gives up the leased id of its kind for the ids named: a sandbox that shares a host uid
  // with other processes can signal and trace them, and shares their per-user kernel counts.
  SandboxBuilder& UidMap(IdMap map);                  // Must map inside id 0.
  SandboxBuilder& GidMap(IdMap map);
  SandboxBuilder& HostUser(uint32_t uid);             // Inner root = this host uid.
  SandboxBuilder& HostGroup(uint32_t gid);

  SandboxBuilder& Policy(DelegationPolicy policy);
  SandboxBuilder& BpffsPath(std::string path);        // Absolute; it must exist inside.
  SandboxBuilder& NoBpffs();
  SandboxBuilder& KeepCapabilities(CapabilitySet caps);  // Besides CAP_BPF.

  SandboxBuilder& Namespaces(NewNamespaces namespaces);
  // The program is pid 1 of its pid namespace: one nested in the sandbox's, whose pid 1 is
  // tokenbox's, so that the program cannot outlive the launcher by clearing its parent-death
  // signal.
  SandboxBuilder& ProgramAsPid1();
  // The filesystem view's operations (see FilesystemView), applied in the order called; paths
  // are absolute. A host `source` is resolved by the launcher, through no symlink that a user
  // other than root could have placed. bubblewrap's --bind, --ro-bind, --tmpfs, --dir,
  // --symlink, --dev, --proc and --remount-ro.
  SandboxBuilder& Bind(std::string source, std::string destination);
  SandboxBuilder& ReadOnlyBind(std::string source, std::string destination);
  SandboxBuilder& Tmpfs(std::string destination);
  SandboxBuilder& Dir(std::string destination);
  SandboxBuilder& Symlink(std::string target, std::string destination);
  SandboxBuilder& Dev(std::string destination);
  SandboxBuilder& Proc(std::string destination);
  SandboxBuilder& RemountReadOnly(std::string destination);
  // Starts the view from an empty tmpfs instead of the host's tree.
  SandboxBuilder& EmptyRoot();
  // Gives up the program's own session keyring: it keeps the launcher's, and can read, use and
  // link the keys in it (root's, when the launcher is root's).
  SandboxBuilder& ShareSessionKeyring();
  // Gives up the program's own session: it stays in the launcher's, with the launcher's
  // controlling terminal, and can push input into that terminal (TIOCSTI, which the launcher's
  // shell then reads) and make itself the terminal's foreground.
  SandboxBuilder& ShareSession();
  // A compiled seccomp filter (classic BPF, as libseccomp's seccomp_export_bpf() writes it and
  // bubblewrap's --seccomp reads it) that the program runs under. It is installed after the
  // capabilities are dropped, as the last step before exec, so it must allow execve (and, for
  // a function, what the function calls).
  SandboxBuilder& SeccompFilter(std::vector<sock_filter> program);
  // Limits enforced by the sandbox's cgroups (CgroupLimits). Where the machine lacks a
  // controller, or tokenbox's cgroup cannot have children that use it, the launch fails and
  // says why: a limit is never silently ignored. PidsMax(std::nullopt) gives up the default.
  SandboxBuilder& MemoryMax(uint64_t bytes);
  SandboxBuilder& PidsMax(std::optional<uint64_t> pids);
  SandboxBuilder& CpuMax(uint32_t percent_of_one_cpu);

  // What no namespace confines, refused unless asked for by name:
  // Lets delegated tracing, LSM and struct_ops programs, with CAP_PERFMON kept, observe and
  // change the whole machine (every process, the kernel's functions, its congestion control).
  SandboxBuilder& AllowHostWideTracing();
  // Lets the program keep CAP_SYS_ADMIN, with which it can mount over the read-only host and
  // the private /proc inside its mount namespace.
  SandboxBuilder& AllowSysAdmin();
  // Lets an id map include host uid or gid 0: what the sandbox writes where it may is then
  // owned by host root.
  SandboxBuilder& AllowHostRoot();

  // Refused, each with its reason: program types that reach a network namespace or a cgroup
  // when the sandbox shares the host's (their programs would attach there), and what the
  // Allow*() methods name, when not allowed.
  absl::StatusOr<Sandbox> Build();

 private:
  void Fail(std::string problem) { problems_.push_back(std::move(problem)); }
  SandboxBuilder& AddMount(MountOperation::Kind kind, std::string source, std::string destination);
  // What is wrong with the filesystem view as a whole.
  std::vector<std::string> FilesystemProblems() const;
  // What the sandbox would let the program reach beyond itself without being asked to.
  std::vector<std::string> ReachProblems() const;
  // Maps inside id 0 to `host_id` in `map`.
  void MapRootTo(uint32_t host_id, absl::string_view what, std::optional<IdMap>& map);

  Sandbox sandbox_;
  bool policy_given_ = false;
  bool allows_host_wide_tracing_ = false;
  bool allows_sys_admin_ = false;
  bool allows_host_root_ = false;
  std::vector<std::string> problems_;
};

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_SANDBOX_H_
