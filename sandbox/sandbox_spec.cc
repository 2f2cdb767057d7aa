#include "sandbox/sandbox_spec.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ns/errno_status.h"

extern char** environ;

namespace tokenbox {
namespace {

constexpr uint32_t kNobody = 65534;

bool ValidEnvKey(const std::string& key) {
  return !key.empty() && key.find('=') == std::string::npos && key.find('\0') == std::string::npos;
}

}  // namespace

SandboxSpec SandboxSpec::WithLaunch(const SandboxSpec& launch) const {
  SandboxSpec combined = *this;
  combined.argv_ = launch.argv_;
  combined.function_ = launch.function_;
  combined.environment_ = launch.environment_;
  combined.working_directory_ = launch.working_directory_;
  combined.resource_limits_ = launch.resource_limits_;
  combined.timeout_ = launch.timeout_;
  combined.passed_fds_ = launch.passed_fds_;
  return combined;
}

SandboxBuilder::SandboxBuilder() {
  spec_.uid_map_ = *IdMap::Single(0, kNobody);
  spec_.gid_map_ = *IdMap::Single(0, kNobody);
  spec_.bpffs_path_ = "/sys/fs/bpf";
  spec_.kept_capabilities_ = CapabilitySet::Of({CAP_BPF});
}

SandboxBuilder& SandboxBuilder::Program(std::vector<std::string> argv) {
  spec_.argv_ = std::move(argv);
  return *this;
}

SandboxBuilder& SandboxBuilder::Function(std::function<int()> function) {
  spec_.function_ = std::move(function);
  return *this;
}

SandboxBuilder& SandboxBuilder::ClearEnvironment() {
  // Order-free, like the other settings: SetEnv() before or after it adds to the empty start.
  inherit_environment_ = false;
  return *this;
}

SandboxBuilder& SandboxBuilder::SetEnv(const std::string& key, const std::string& value) {
  if (!ValidEnvKey(key)) {
    Fail(absl::StrCat("environment variable name '", Printable(key), "' is invalid"));
  }
  environment_changes_[key] = value;
  return *this;
}

SandboxBuilder& SandboxBuilder::UnsetEnv(const std::string& key) {
  if (!ValidEnvKey(key)) {
    Fail(absl::StrCat("environment variable name '", Printable(key), "' is invalid"));
  }
  environment_changes_[key] = std::nullopt;
  return *this;
}

void SandboxBuilder::CheckPath(absl::string_view what, absl::string_view path) {
  if (path.empty() || path[0] != '/') {
    Fail(absl::StrCat(what, " '", Printable(path), "' must be an absolute path"));
  } else if (path.size() >= PATH_MAX) {
    // The kernel would refuse it with ENAMETOOLONG; say so now rather than half-way into set-up.
    Fail(absl::StrCat(what, " '", Printable(path), "' is longer than PATH_MAX (", PATH_MAX - 1,
                      " bytes)"));
  } else if (path.find('\0') != absl::string_view::npos) {
    Fail(absl::StrCat(what, " '", Printable(path), "' contains a NUL byte"));
  }
}

SandboxBuilder& SandboxBuilder::WorkingDirectory(std::string path) {
  CheckPath("working directory", path);
  spec_.working_directory_ = std::move(path);
  return *this;
}

SandboxBuilder& SandboxBuilder::UidMap(IdMap map) {
  spec_.uid_map_ = std::move(map);
  return *this;
}

SandboxBuilder& SandboxBuilder::GidMap(IdMap map) {
  spec_.gid_map_ = std::move(map);
  return *this;
}

SandboxBuilder& SandboxBuilder::HostUser(uint32_t uid) {
  absl::StatusOr<IdMap> map = IdMap::Single(0, uid);
  if (!map.ok()) {
    Fail(absl::StrCat("host uid: ", map.status().message()));
  } else {
    spec_.uid_map_ = *std::move(map);
  }
  return *this;
}

SandboxBuilder& SandboxBuilder::HostGroup(uint32_t gid) {
  absl::StatusOr<IdMap> map = IdMap::Single(0, gid);
  if (!map.ok()) {
    Fail(absl::StrCat("host gid: ", map.status().message()));
  } else {
    spec_.gid_map_ = *std::move(map);
  }
  return *this;
}

SandboxBuilder& SandboxBuilder::Policy(DelegationPolicy policy) {
  spec_.policy_ = policy;
  policy_given_ = true;
  return *this;
}

SandboxBuilder& SandboxBuilder::BpffsPath(std::string path) {
  CheckPath("bpffs path", path);
  spec_.bpffs_path_ = std::move(path);
  return *this;
}

SandboxBuilder& SandboxBuilder::NoBpffs() {
  spec_.bpffs_path_.reset();
  return *this;
}

SandboxBuilder& SandboxBuilder::KeepCapabilities(CapabilitySet caps) {
  spec_.kept_capabilities_ = caps.With(CAP_BPF);
  return *this;
}

SandboxBuilder& SandboxBuilder::Namespaces(ExtraNamespaces namespaces) {
  if (namespaces.program_is_pid1 && !namespaces.pid) {
    Fail("the program can be pid 1 only in a new pid namespace");
  }
  spec_.namespaces_ = namespaces;
  return *this;
}

SandboxBuilder& SandboxBuilder::Filesystem(FilesystemView view) {
  for (const std::string& path : view.writable_paths) CheckPath("writable path", path);
  if (!view.read_only_host && !view.writable_paths.empty()) {
    Fail("writable paths only make sense with a read-only host filesystem");
  }
  for (const std::string& path : view.writable_paths) {
    if (path == "/") Fail("'/' cannot be a writable path of a read-only host filesystem");
  }
  spec_.filesystem_ = std::move(view);
  return *this;
}

SandboxBuilder& SandboxBuilder::ResourceLimitOf(int resource, rlim_t soft, rlim_t hard) {
  if (resource < 0 || resource >= RLIM_NLIMITS) {
    Fail(absl::StrCat("resource limit ", resource, " does not exist"));
  } else if (soft > hard) {
    Fail(absl::StrCat("resource limit ", resource, ": soft ", soft, " exceeds hard ", hard));
  }
  spec_.resource_limits_.push_back({resource, soft, hard});
  return *this;
}

SandboxBuilder& SandboxBuilder::Timeout(absl::Duration timeout) {
  if (timeout <= absl::ZeroDuration()) {
    Fail(absl::StrCat("timeout ", absl::FormatDuration(timeout), " must be positive"));
  } else if (timeout > absl::Hours(24 * 365)) {
    Fail(absl::StrCat("timeout ", absl::FormatDuration(timeout), " is longer than a year"));
  }
  spec_.timeout_ = timeout;
  return *this;
}

SandboxBuilder& SandboxBuilder::PassFd(int fd, int target) {
  if (target < 0) {
    Fail(absl::StrCat("target fd ", target, " is negative"));
    return *this;
  }
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) {
    Fail(absl::StrCat("fd ", fd, " to pass at ", target, ": ", ErrnoName(errno)));
    return *this;
  }
  spec_.passed_fds_.push_back({std::make_shared<UniqueFd>(copy), target});
  return *this;
}

absl::StatusOr<SandboxSpec> SandboxBuilder::Build() {
  std::vector<std::string> problems = problems_;
  if (spec_.argv_.empty() && !spec_.function_) {
    problems.push_back("nothing to run: give a program or a function");
  }
  if (!spec_.argv_.empty() && spec_.function_) {
    problems.push_back("both a program and a function were given; give one");
  }
  if (!spec_.argv_.empty() && spec_.argv_[0].empty()) {
    problems.push_back("the program path is empty");
  }
  if (!spec_.uid_map_.ToOutside(0).has_value()) {
    problems.push_back("the uid map must map inside uid 0 (the sandbox runs as its own root)");
  }
  if (!spec_.gid_map_.ToOutside(0).has_value()) {
    problems.push_back("the gid map must map inside gid 0");
  }
  if (!policy_given_ || spec_.policy_.empty()) {
    problems.push_back("the delegation policy delegates nothing, so no BPF token can be created");
  }
  std::set<int> targets;
  for (const PassedFd& passed : spec_.passed_fds_) {
    if (!targets.insert(passed.target).second) {
      problems.push_back(absl::StrCat("two fds are passed at fd ", passed.target));
    }
  }
  if (!problems.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid sandbox: ", absl::StrJoin(problems, "; ")));
  }
  std::map<std::string, std::string> environment;
  if (inherit_environment_) {
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
      const char* eq = strchr(*entry, '=');
      if (eq != nullptr) environment[std::string(*entry, static_cast<size_t>(eq - *entry))] = eq + 1;
    }
  }
  for (const auto& [key, value] : environment_changes_) {
    if (value.has_value()) {
      environment[key] = *value;
    } else {
      environment.erase(key);
    }
  }
  spec_.environment_.clear();
  for (const auto& [key, value] : environment) {
    spec_.environment_.push_back(absl::StrCat(key, "=", value));
  }
  return spec_;
}

}  // namespace tokenbox
