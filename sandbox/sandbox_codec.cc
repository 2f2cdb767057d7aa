#include "sandbox/sandbox_codec.h"

#include <linux/capability.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ns/id_map.h"
#include "ns/wire_format.h"
#include "token/policy_lint.h"

namespace tokenbox {
namespace {

constexpr uint32_t kMaxOperations = 1024;

void PutIdMap(WireWriter& out, const std::optional<IdMap>& map) {
  out.Bool(map.has_value());
  const std::vector<IdRange> none;
  const std::vector<IdRange>& ranges = map.has_value() ? map->ranges() : none;
  out.U32(static_cast<uint32_t>(ranges.size()));
  for (const IdRange& range : ranges) {
    out.U32(range.inside);
    out.U32(range.outside);
    out.U32(range.count);
  }
}

// Gives the map to `set` when one was sent, noting whether it maps host id 0; an error for a
// map the kernel would refuse (bytes that break off are left to the reader to notice).
template <typename Setter>
absl::Status TakeIdMap(WireReader& in, bool& maps_host_root, Setter set) {
  bool present = false;
  uint32_t count = 0;
  in.Bool(&present);
  in.U32AtMost(kMaxIdRanges, &count);
  std::vector<IdRange> ranges;
  for (uint32_t i = 0; in.ok() && i < count; ++i) {
    IdRange range;
    if (in.U32(&range.inside) && in.U32(&range.outside) && in.U32(&range.count)) {
      ranges.push_back(range);
      if (present && range.outside == 0) maps_host_root = true;
    }
  }
  if (!in.ok() || !present) return absl::OkStatus();
  absl::StatusOr<IdMap> map = IdMap::Create(std::move(ranges));
  if (!map.ok()) return map.status();
  set(*std::move(map));
  return absl::OkStatus();
}

void PutOptionalU64(WireWriter& out, std::optional<uint64_t> value) {
  out.Bool(value.has_value());
  out.U64(value.value_or(0));
}

std::optional<uint64_t> TakeOptionalU64(WireReader& in) {
  bool present = false;
  uint64_t value = 0;
  in.Bool(&present);
  in.U64(&value);
  return present ? std::optional(value) : std::nullopt;
}

}  // namespace

std::string SandboxCodec::Encode(const Sandbox& sandbox) {
  WireWriter out;
  PutIdMap(out, sandbox.uid_map());
  PutIdMap(out, sandbox.gid_map());
  for (DelegateKind kind : kAllDelegateKinds) {
    out.U64(sandbox.policy()[kind].bits);
    out.Bool(sandbox.policy()[kind].any);
  }
  out.Bool(sandbox.bpffs_path().has_value());
  out.String(sandbox.bpffs_path().value_or(""));
  out.U64(sandbox.kept_capabilities().bits());
  const NewNamespaces& ns = sandbox.namespaces();
  for (bool own : {ns.pid, ns.net, ns.ipc, ns.uts, ns.cgroup}) out.Bool(own);
  out.Bool(sandbox.program_is_pid1());
  out.Bool(sandbox.filesystem().empty_root);
  out.U32(static_cast<uint32_t>(sandbox.filesystem().operations.size()));
  for (const MountOperation& op : sandbox.filesystem().operations) {
    out.U32(static_cast<uint32_t>(op.kind));
    out.String(op.source);
    out.String(op.destination);
  }
  out.Bool(sandbox.shares_session_keyring());
  out.Bool(sandbox.shares_session());
  out.U32(static_cast<uint32_t>(sandbox.seccomp_filter().size()));
  for (const sock_filter& instruction : sandbox.seccomp_filter()) {
    out.U32(uint32_t{instruction.code} | uint32_t{instruction.jt} << 16 |
            uint32_t{instruction.jf} << 24);
    out.U32(instruction.k);
  }
  const CgroupLimits& limits = sandbox.cgroup_limits();
  PutOptionalU64(out, limits.memory_max);
  PutOptionalU64(out, limits.pids_max);
  PutOptionalU64(out, limits.cpu_percent);
  return out.bytes();
}

absl::StatusOr<Sandbox> SandboxCodec::Decode(absl::string_view bytes) {
  SandboxBuilder builder;
  WireReader in(bytes);
  std::vector<absl::Status> problems;
  bool maps_host_root = false;
  problems.push_back(
      TakeIdMap(in, maps_host_root, [&](IdMap map) { builder.UidMap(std::move(map)); }));
  problems.push_back(
      TakeIdMap(in, maps_host_root, [&](IdMap map) { builder.GidMap(std::move(map)); }));
  DelegationPolicy policy;
  for (DelegateKind kind : kAllDelegateKinds) {
    in.U64(&policy[kind].bits);
    in.Bool(&policy[kind].any);
    if (policy[kind].any && policy[kind].bits != ~uint64_t{0}) {
      problems.push_back(absl::InvalidArgumentError("'any' with a mask that is not every bit"));
    }
  }
  builder.Policy(policy);
  bool has_bpffs = false;
  std::string bpffs;
  in.Bool(&has_bpffs);
  in.String(&bpffs);
  if (has_bpffs) {
    builder.BpffsPath(bpffs);
  } else {
    builder.NoBpffs();
  }
  uint64_t caps = 0;
  in.U64(&caps);
  if ((caps >> (CAP_LAST_CAP + 1)) != 0) {
    problems.push_back(absl::InvalidArgumentError("capabilities this kernel does not have"));
  }
  const CapabilitySet kept(caps);
  builder.KeepCapabilities(kept);
  NewNamespaces ns;
  for (bool* own : {&ns.pid, &ns.net, &ns.ipc, &ns.uts, &ns.cgroup}) in.Bool(own);
  builder.Namespaces(ns);
  bool pid1 = false, empty_root = false;
  in.Bool(&pid1);
  if (pid1) builder.ProgramAsPid1();
  in.Bool(&empty_root);
  if (empty_root) builder.EmptyRoot();
  uint32_t operations = 0;
  in.U32AtMost(kMaxOperations, &operations);
  for (uint32_t i = 0; in.ok() && i < operations; ++i) {
    uint32_t kind = 0;
    std::string source, destination;
    in.U32AtMost(static_cast<uint32_t>(MountOperation::Kind::kRemountReadOnly), &kind);
    in.String(&source);
    in.String(&destination);
    switch (static_cast<MountOperation::Kind>(kind)) {
      case MountOperation::Kind::kBind: builder.Bind(source, destination); break;
      case MountOperation::Kind::kReadOnlyBind: builder.ReadOnlyBind(source, destination); break;
      case MountOperation::Kind::kTmpfs: builder.Tmpfs(destination); break;
      case MountOperation::Kind::kDir: builder.Dir(destination); break;
      case MountOperation::Kind::kSymlink: builder.Symlink(source, destination); break;
      case MountOperation::Kind::kDev: builder.Dev(destination); break;
      case MountOperation::Kind::kProc: builder.Proc(destination); break;
      case MountOperation::Kind::kRemountReadOnly: builder.RemountReadOnly(destination); break;
    }
  }
  bool shares_keyring = false, shares_session = false;
  in.Bool(&shares_keyring);
  in.Bool(&shares_session);
  if (shares_keyring) builder.ShareSessionKeyring();
  if (shares_session) builder.ShareSession();
  uint32_t instructions = 0;
  in.U32AtMost(BPF_MAXINSNS, &instructions);
  std::vector<sock_filter> filter;
  for (uint32_t i = 0; in.ok() && i < instructions; ++i) {
    uint32_t head = 0, k = 0;
    if (in.U32(&head) && in.U32(&k)) {
      filter.push_back({static_cast<uint16_t>(head & 0xffff), static_cast<uint8_t>(head >> 16),
                        static_cast<uint8_t>(head >> 24), k});
    }
  }
  if (!filter.empty()) builder.SeccompFilter(std::move(filter));
  std::optional<uint64_t> memory = TakeOptionalU64(in);
  std::optional<uint64_t> pids = TakeOptionalU64(in);
  std::optional<uint64_t> cpu = TakeOptionalU64(in);
  if (!in.Done()) return absl::DataLossError("malformed sandbox");
  for (const absl::Status& problem : problems) {
    if (!problem.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("invalid sandbox: ", problem.message()));
    }
  }
  if (memory.has_value()) builder.MemoryMax(*memory);
  builder.PidsMax(pids);
  if (cpu.has_value()) {
    if (*cpu > UINT32_MAX) return absl::InvalidArgumentError("invalid sandbox: a CPU limit too large");
    builder.CpuMax(static_cast<uint32_t>(*cpu));
  }
  // The opt-outs a sandbox with these contents was built with; the reader still decides
  // whether to grant what they give up.
  if (!DelegatedProgramsReaching(policy, ProgramReach::kWholeMachine).empty() &&
      kept.Has(CAP_PERFMON)) {
    builder.AllowHostWideTracing();
  }
  if (kept.Has(CAP_SYS_ADMIN)) builder.AllowSysAdmin();
  if (maps_host_root) builder.AllowHostRoot();
  return builder.Build();
}

}  // namespace tokenbox
