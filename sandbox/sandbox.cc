#include "sandbox/sandbox.h"

#include <linux/capability.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sandbox/kernel_path.h"

namespace tokenbox {
namespace {

constexpr uint32_t kNobody = 65534;

}  // namespace

SandboxBuilder::SandboxBuilder() {
  sandbox_.uid_map_ = *IdMap::Single(0, kNobody);
  sandbox_.gid_map_ = *IdMap::Single(0, kNobody);
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

void SandboxBuilder::MapRootTo(uint32_t host_id, absl::string_view what, IdMap& map) {
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

SandboxBuilder& SandboxBuilder::Filesystem(FilesystemView view) {
  for (const std::string& path : view.writable_paths) {
    CheckKernelPath("writable path", path, problems_);
  }
  if (!view.read_only_host && !view.writable_paths.empty()) {
    Fail("writable paths only make sense with a read-only host filesystem");
  }
  for (const std::string& path : view.writable_paths) {
    if (path == "/") Fail("'/' cannot be a writable path of a read-only host filesystem");
  }
  sandbox_.filesystem_ = std::move(view);
  return *this;
}

SandboxBuilder& SandboxBuilder::ShareSessionKeyring() {
  sandbox_.shares_session_keyring_ = true;
  return *this;
}

SandboxBuilder& SandboxBuilder::ShareSession() {
  sandbox_.shares_session_ = true;
  return *this;
}

absl::StatusOr<Sandbox> SandboxBuilder::Build() {
  std::vector<std::string> problems = problems_;
  if (!sandbox_.uid_map_.ToOutside(0).has_value()) {
    problems.push_back("the uid map must map inside uid 0 (the sandbox runs as its own root)");
  }
  if (!sandbox_.gid_map_.ToOutside(0).has_value()) {
    problems.push_back("the gid map must map inside gid 0");
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
