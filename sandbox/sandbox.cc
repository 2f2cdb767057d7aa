#include "sandbox/sandbox.h"

#include <linux/capability.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sandbox/host_resources/host_id_lease.h"
#include "sandbox/kernel_path.h"
#include "token/policy_lint.h"

namespace tokenbox {
namespace {

// Whether `map` names a host id that tokenbox leases to sandboxes: given explicitly, it would
// share that sandbox's.
bool MapsLeasedIds(const std::optional<IdMap>& map) {
  if (!map.has_value()) return false;
  for (const IdRange& range : map->ranges()) {
    const uint64_t first = range.outside;
    const uint64_t end = first + range.count;
    if (first < uint64_t{HostIdLease::kFirstId} + HostIdLease::kIdCount &&
        end > HostIdLease::kFirstId) {
      return true;
    }
  }
  return false;
}

bool MapsHostRoot(const std::optional<IdMap>& map) {
  if (!map.has_value()) return false;  // A leased id is never 0.
  for (const IdRange& range : map->ranges()) {
    if (range.outside == 0) return true;  // A range cannot wrap, so only its first id can be 0.
  }
  return false;
}

}  // namespace

Sandbox Sandbox::WithLeasedIds(uint32_t host_id) const {
  Sandbox leased = *this;
  if (!leased.uid_map_.has_value()) leased.uid_map_ = *IdMap::Single(0, host_id);
  if (!leased.gid_map_.has_value()) leased.gid_map_ = *IdMap::Single(0, host_id);
  return leased;
}

SandboxBuilder::SandboxBuilder() {
  sandbox_.bpffs_path_ = "/sys/fs/bpf";
  sandbox_.kept_capabilities_ = CapabilitySet::Of({CAP_BPF});
}

SandboxBuilder& SandboxBuilder::UidMap(IdMap map) {
  sandbox_.uid_map_ = std::move(map);
  return *this;
}

SandboxBuilder& SandboxBuilder::GidMap(IdMap map) {
  sandbox_.gid_map_ = std::move(map);
  return *this;
}

void SandboxBuilder::MapRootTo(uint32_t host_id, absl::string_view what,
                               std::optional<IdMap>& map) {
  absl::StatusOr<IdMap> single = IdMap::Single(0, host_id);
  if (!single.ok()) {
    Fail(absl::StrCat(what, ": ", single.status().message()));
  } else {
    map = *std::move(single);
  }
}

SandboxBuilder& SandboxBuilder::HostUser(uint32_t uid) {
  MapRootTo(uid, "host uid", sandbox_.uid_map_);
  return *this;
}

SandboxBuilder& SandboxBuilder::HostGroup(uint32_t gid) {
  MapRootTo(gid, "host gid", sandbox_.gid_map_);
  return *this;
}

SandboxBuilder& SandboxBuilder::Policy(DelegationPolicy policy) {
  sandbox_.policy_ = policy;
  policy_given_ = true;
  return *this;
}

SandboxBuilder& SandboxBuilder::BpffsPath(std::string path) {
  CheckKernelPath("bpffs path", path, problems_);
  sandbox_.bpffs_path_ = std::move(path);
  return *this;
}

SandboxBuilder& SandboxBuilder::NoBpffs() {
  sandbox_.bpffs_path_.reset();
  return *this;
}

SandboxBuilder& SandboxBuilder::KeepCapabilities(CapabilitySet caps) {
  sandbox_.kept_capabilities_ = caps.With(CAP_BPF);
  return *this;
}

SandboxBuilder& SandboxBuilder::Namespaces(NewNamespaces namespaces) {
  sandbox_.namespaces_ = namespaces;
  return *this;
}

SandboxBuilder& SandboxBuilder::ProgramAsPid1() {
  sandbox_.program_is_pid1_ = true;
  return *this;
}

SandboxBuilder& SandboxBuilder::AddMount(MountOperation::Kind kind, std::string source,
                                         std::string destination) {
  using Kind = MountOperation::Kind;
  if (kind == Kind::kBind || kind == Kind::kReadOnlyBind) {
    CheckKernelPath("bind source", source, problems_);
  } else if (kind == Kind::kSymlink && (source.empty() || source.find('\0') != std::string::npos)) {
    Fail("a symlink's target must be non-empty text without NUL bytes");
  }
  CheckKernelPath("mount destination", destination, problems_);
  if (destination == "/" && kind != Kind::kRemountReadOnly) {
    Fail("only --remount-ro may name / itself: to start from something other than the host, "
         "give --empty-root and bind what the program needs");
  }
  sandbox_.filesystem_.operations.push_back({kind, std::move(source), std::move(destination)});
  return *this;
}

SandboxBuilder& SandboxBuilder::Bind(std::string source, std::string destination) {
  return AddMount(MountOperation::Kind::kBind, std::move(source), std::move(destination));
}
SandboxBuilder& SandboxBuilder::ReadOnlyBind(std::string source, std::string destination) {
  return AddMount(MountOperation::Kind::kReadOnlyBind, std::move(source), std::move(destination));
}
SandboxBuilder& SandboxBuilder::Tmpfs(std::string destination) {
  return AddMount(MountOperation::Kind::kTmpfs, "", std::move(destination));
}
SandboxBuilder& SandboxBuilder::Dir(std::string destination) {
  return AddMount(MountOperation::Kind::kDir, "", std::move(destination));
}
SandboxBuilder& SandboxBuilder::Symlink(std::string target, std::string destination) {
  return AddMount(MountOperation::Kind::kSymlink, std::move(target), std::move(destination));
}
SandboxBuilder& SandboxBuilder::Dev(std::string destination) {
  return AddMount(MountOperation::Kind::kDev, "", std::move(destination));
}
SandboxBuilder& SandboxBuilder::Proc(std::string destination) {
  return AddMount(MountOperation::Kind::kProc, "", std::move(destination));
}
SandboxBuilder& SandboxBuilder::RemountReadOnly(std::string destination) {
  return AddMount(MountOperation::Kind::kRemountReadOnly, "", std::move(destination));
}

SandboxBuilder& SandboxBuilder::MemoryMax(uint64_t bytes) {
  // Below a few pages not even the child's set-up fits; the kernel would OOM-kill it at once.
  if (bytes < (uint64_t{1} << 20)) Fail("the memory limit must be at least 1 MiB");
  sandbox_.cgroup_limits_.memory_max = bytes;
  return *this;
}

SandboxBuilder& SandboxBuilder::PidsMax(std::optional<uint64_t> pids) {
  // The child, the pid namespace's init and the program: fewer and the launch cannot start.
  if (pids.has_value() && *pids < 3) Fail("the pids limit must be at least 3");
  sandbox_.cgroup_limits_.pids_max = pids;
  return *this;
}

SandboxBuilder& SandboxBuilder::CpuMax(uint32_t percent_of_one_cpu) {
  if (percent_of_one_cpu == 0 || percent_of_one_cpu > 100000) {
    Fail("the CPU limit must be 1 to 100000 percent of one CPU");
  }
  sandbox_.cgroup_limits_.cpu_percent = percent_of_one_cpu;
  return *this;
}

SandboxBuilder& SandboxBuilder::EmptyRoot() {
  sandbox_.filesystem_.empty_root = true;
  return *this;
}

std::vector<std::string> SandboxBuilder::FilesystemProblems() const {
  std::vector<std::string> problems;
  std::vector<std::string> proc_destinations;
  for (const MountOperation& op : sandbox_.filesystem_.operations) {
    // The sandbox's pid 1 mounts its /proc after every other operation: one below it would be
    // hidden.
    for (const std::string& proc : proc_destinations) {
      if (absl::StartsWith(op.destination, absl::StrCat(proc, "/"))) {
        problems.push_back(absl::StrCat("nothing can be mounted below --proc ", proc,
                                        ": the sandbox's /proc is mounted last"));
      }
    }
    if (op.kind != MountOperation::Kind::kProc) continue;
    proc_destinations.push_back(op.destination);
    if (!sandbox_.namespaces_.pid) {
      problems.push_back(absl::StrCat(
          "--proc ", op.destination, " needs the sandbox's pid namespace (a /proc of the host's "
          "would show every host process): drop --no-unshare-pid"));
    }
  }
  return problems;
}

SandboxBuilder& SandboxBuilder::ShareSessionKeyring() {
  sandbox_.shares_session_keyring_ = true;
  return *this;
}

SandboxBuilder& SandboxBuilder::ShareSession() {
  sandbox_.shares_session_ = true;
  return *this;
}

SandboxBuilder& SandboxBuilder::AllowHostWideTracing() {
  allows_host_wide_tracing_ = true;
  return *this;
}

SandboxBuilder& SandboxBuilder::AllowSysAdmin() {
  allows_sys_admin_ = true;
  return *this;
}

SandboxBuilder& SandboxBuilder::SeccompFilter(std::vector<sock_filter> program) {
  if (program.empty() || program.size() > BPF_MAXINSNS) {
    Fail(absl::StrCat("a seccomp filter has 1 to ", BPF_MAXINSNS, " instructions, not ",
                      program.size()));
  }
  sandbox_.seccomp_filter_ = std::move(program);
  return *this;
}

SandboxBuilder& SandboxBuilder::AllowHostRoot() {
  allows_host_root_ = true;
  return *this;
}

std::vector<std::string> SandboxBuilder::ReachProblems() const {
  std::vector<std::string> problems;
  const DelegationPolicy& policy = sandbox_.policy_;
  if (std::vector<std::string> types =
          DelegatedProgramsReaching(policy, ProgramReach::kNetworkNamespace);
      !types.empty() && !sandbox_.namespaces_.net) {
    problems.push_back(absl::StrCat(
        "program types ", ShortListOfNames(types), " attach to a network namespace, and the "
        "sandbox shares the host's (--share-net): keep its own, or do not delegate them"));
  }
  if (std::vector<std::string> types = DelegatedProgramsReaching(policy, ProgramReach::kCgroup);
      !types.empty() && !sandbox_.namespaces_.cgroup) {
    problems.push_back(absl::StrCat(
        "program types ", ShortListOfNames(types), " attach to cgroups, and the sandbox shares "
        "the host's cgroup namespace (--share-cgroup): keep its own, or do not delegate them"));
  }
  if (std::vector<std::string> types =
          DelegatedProgramsReaching(policy, ProgramReach::kWholeMachine);
      !types.empty() && sandbox_.kept_capabilities_.Has(CAP_PERFMON) &&
      !allows_host_wide_tracing_) {
    problems.push_back(absl::StrCat(
        "program types ", ShortListOfNames(types), " with CAP_PERFMON kept trace and change the "
        "whole machine, which no namespace confines: say so with --allow-host-tracing "
        "(AllowHostWideTracing()), or do not delegate them"));
  }
  if (sandbox_.kept_capabilities_.Has(CAP_SYS_ADMIN) && !allows_sys_admin_) {
    problems.push_back(
        "keeping CAP_SYS_ADMIN lets the program mount over the read-only host and the private "
        "/proc: say so with --allow-sys-admin (AllowSysAdmin()), or do not keep it");
  }
  if ((MapsHostRoot(sandbox_.uid_map_) || MapsHostRoot(sandbox_.gid_map_)) &&
      !allows_host_root_) {
    problems.push_back(
        "the id maps include host uid or gid 0, so what the sandbox writes would be host "
        "root's: map other host ids, or say so with --allow-host-root (AllowHostRoot())");
  }
  return problems;
}

absl::StatusOr<Sandbox> SandboxBuilder::Build() {
  std::vector<std::string> problems = problems_;
  for (std::string& problem : ReachProblems()) problems.push_back(std::move(problem));
  for (std::string& problem : FilesystemProblems()) problems.push_back(std::move(problem));
  if (sandbox_.uid_map_.has_value() && !sandbox_.uid_map_->ToOutside(0).has_value()) {
    problems.push_back("the uid map must map inside uid 0 (the sandbox runs as its own root)");
  }
  if (sandbox_.gid_map_.has_value() && !sandbox_.gid_map_->ToOutside(0).has_value()) {
    problems.push_back("the gid map must map inside gid 0");
  }
  if (MapsLeasedIds(sandbox_.uid_map_) || MapsLeasedIds(sandbox_.gid_map_)) {
    problems.push_back(absl::StrCat(
        "the id maps include host ids ", HostIdLease::kFirstId, "-",
        HostIdLease::kFirstId + HostIdLease::kIdCount - 1,
        ", which tokenbox leases to sandboxes: map other ids, or none (a leased one is the "
        "default)"));
  }
  if (!policy_given_ || sandbox_.policy_.empty()) {
    problems.push_back("the delegation policy delegates nothing, so no BPF token can be created");
  }
  if (sandbox_.program_is_pid1_ && !sandbox_.namespaces_.pid) {
    problems.push_back("the program can be pid 1 only in a new pid namespace");
  }
  if (!problems.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid sandbox: ", absl::StrJoin(problems, "; ")));
  }
  return sandbox_;
}

}  // namespace tokenbox
