#ifndef TOKENBOX_SANDBOX_SANDBOX_SPEC_H_
#define TOKENBOX_SANDBOX_SANDBOX_SPEC_H_

#include <sys/resource.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ns/id_map.h"
#include "ns/unique_fd.h"
#include "token/capability_set.h"
#include "token/delegation_policy.h"

namespace tokenbox {

// Namespaces a sandbox may get besides its user and mount namespaces.
struct ExtraNamespaces {
  bool net = false;     // A new network namespace; loopback is brought up.
  // A new pid namespace with its own /proc, on by default: it is what makes the whole sandbox
  // die with its launcher, even a SIGKILLed one, and a timeout reach everything the program
  // started. Without it, a process the program forks (or that leaves its process group) can
  // outlive a launcher that was SIGKILLed.
  bool pid = true;
  bool program_is_pid1 = false;  // With pid: the program itself is pid 1 (else a tiny init is).
  bool ipc = false;
  bool uts = false;     // Hostname "tokenbox".
  bool cgroup = false;
};

// What of the host's filesystem the sandbox may write. By default the sandbox sees the host's
// tree as it is, and what it can write is what its host user can write (for nobody: little more
// than /tmp). With read_only_host, every host mount is read-only inside, except the
// directories in writable_paths (bound in writable, as they are on the host) and, with
// private_tmp, a fresh tmpfs on /tmp that only the sandbox sees.
struct FilesystemView {
  bool read_only_host = false;
  std::vector<std::string> writable_paths;
  bool private_tmp = false;
};

struct ResourceLimit {
  int resource;  // RLIMIT_*
  rlim_t soft;
  rlim_t hard;
};

// An fd of the launcher that the sandboxed program gets at `target`. The spec (and its builder)
// own a duplicate until they are destroyed, so a pipe passed this way reaches end-of-file only
// after both are gone.
struct PassedFd {
  std::shared_ptr<UniqueFd> fd;
  int target;
};

// A complete, checked description of one sandbox. Made only by SandboxBuilder::Build(), so
// every SandboxSpec in existence is consistent; launching it can fail only for reasons the
// machine gives (a missing program, a kernel without tokens), never for a contradiction in it.
class SandboxSpec {
 public:
  // What runs: a program (argv[0] is a path, or a name searched in the sandbox's PATH), or a
  // function called in the sandboxed child after set-up (its return value is the exit code).
  const std::vector<std::string>& argv() const { return argv_; }
  const std::function<int()>& function() const { return function_; }
  bool runs_function() const { return static_cast<bool>(function_); }

  // The environment the program starts with, before tokenbox adds TOKENBOX_TOKEN_FD and
  // LIBBPF_BPF_TOKEN_PATH.
  const std::vector<std::string>& environment() const { return environment_; }
  const std::optional<std::string>& working_directory() const { return working_directory_; }

  const IdMap& uid_map() const { return uid_map_; }
  const IdMap& gid_map() const { return gid_map_; }
  const DelegationPolicy& policy() const { return policy_; }
  // Where the delegated bpffs is mounted inside; nullopt when only the token fd is passed.
  const std::optional<std::string>& bpffs_path() const { return bpffs_path_; }
  // The capabilities the program keeps: CAP_BPF plus what was asked for.
  CapabilitySet kept_capabilities() const { return kept_capabilities_; }
  const ExtraNamespaces& namespaces() const { return namespaces_; }
  const FilesystemView& filesystem() const { return filesystem_; }
  const std::vector<ResourceLimit>& resource_limits() const { return resource_limits_; }
  std::optional<absl::Duration> timeout() const { return timeout_; }
  const std::vector<PassedFd>& passed_fds() const { return passed_fds_; }

  // This sandbox (maps, policy, bpffs, capabilities, namespaces) running what `launch` says
  // (program or function, environment, working directory, rlimits, timeout, passed fds). How a
  // fork server applies each launch to its prepared sandbox.
  SandboxSpec WithLaunch(const SandboxSpec& launch) const;

 private:
  friend class SandboxBuilder;
  friend class LaunchRequestCodec;
  SandboxSpec() : uid_map_(*IdMap::Single(0, 0)), gid_map_(*IdMap::Single(0, 0)) {}

  std::vector<std::string> argv_;
  std::function<int()> function_;
  std::vector<std::string> environment_;
  std::optional<std::string> working_directory_;
  IdMap uid_map_;
  IdMap gid_map_;
  DelegationPolicy policy_;
  std::optional<std::string> bpffs_path_;
  CapabilitySet kept_capabilities_;
  ExtraNamespaces namespaces_;
  FilesystemView filesystem_;
  std::vector<ResourceLimit> resource_limits_;
  std::optional<absl::Duration> timeout_;
  std::vector<PassedFd> passed_fds_;
};

// Builds a SandboxSpec fluently; Build() reports every inconsistency at once, as one error.
//
//   absl::StatusOr<SandboxSpec> spec = SandboxBuilder()
//       .Program({"/usr/sbin/bpftool", "prog", "load", "x.bpf.o", "/sys/fs/bpf/x"})
//       .Policy(*ParseDelegationPolicy("prog_load:btf_load:map_create", "array",
//                                      "socket_filter", "any"))
//       .Timeout(absl::Seconds(30))
//       .Build();
//
// Defaults: inner root mapped to host nobody (65534:65534); the bpffs at /sys/fs/bpf; only
// CAP_BPF kept; the launcher's environment inherited; a new pid namespace (the program is pid 2
// under a tiny init) and no other extra namespace; no timeout.
class SandboxBuilder {
 public:
  SandboxBuilder();

  SandboxBuilder& Program(std::vector<std::string> argv);
  SandboxBuilder& Function(std::function<int()> function);

  // Start from an empty environment; SetEnv() adds to it whether it comes before or after.
  SandboxBuilder& ClearEnvironment();
  SandboxBuilder& SetEnv(const std::string& key, const std::string& value);
  SandboxBuilder& UnsetEnv(const std::string& key);
  SandboxBuilder& WorkingDirectory(std::string path);

  SandboxBuilder& UidMap(IdMap map);                  // Must map inside id 0.
  SandboxBuilder& GidMap(IdMap map);
  SandboxBuilder& HostUser(uint32_t uid);             // Inner root = this host uid.
  SandboxBuilder& HostGroup(uint32_t gid);

  SandboxBuilder& Policy(DelegationPolicy policy);
  SandboxBuilder& BpffsPath(std::string path);        // Absolute; it must exist inside.
  SandboxBuilder& NoBpffs();
  SandboxBuilder& KeepCapabilities(CapabilitySet caps);  // Besides CAP_BPF.

  SandboxBuilder& Namespaces(ExtraNamespaces namespaces);
  // Makes the host's filesystem read-only inside, but for `writable_paths` (absolute, existing
  // directories) and, with `private_tmp`, a private /tmp.
  SandboxBuilder& Filesystem(FilesystemView view);
  SandboxBuilder& ResourceLimitOf(int resource, rlim_t soft, rlim_t hard);
  SandboxBuilder& Timeout(absl::Duration timeout);
  // Gives the program a duplicate of `fd` at fd number `target`.
  SandboxBuilder& PassFd(int fd, int target);

  absl::StatusOr<SandboxSpec> Build();

 private:
  void Fail(std::string problem) { problems_.push_back(std::move(problem)); }
  // A path the child will hand to the kernel: absolute, shorter than PATH_MAX, no NUL byte.
  void CheckPath(absl::string_view what, absl::string_view path);

  SandboxSpec spec_;
  bool inherit_environment_ = true;
  std::map<std::string, std::optional<std::string>> environment_changes_;
  bool policy_given_ = false;
  std::vector<std::string> problems_;
};

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_SANDBOX_SPEC_H_
