#ifndef TOKENBOX_SANDBOX_HOST_RESOURCES_SANDBOX_CGROUP_H_
#define TOKENBOX_SANDBOX_HOST_RESOURCES_SANDBOX_CGROUP_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ns/unique_fd.h"
#include "sandbox/host_resources/cgroup_hierarchy.h"
#include "sandbox/host_resources/launcher_watcher.h"
#include "sandbox/sandbox.h"

namespace tokenbox {

// The sandbox's own cgroups, made for one launch (or one fork server) below the launcher's and
// removed after it, with whatever is still in them (cgroup.kill; in v1, each process listed).
// In the cgroup2 hierarchy, a directory the sandbox's child enters before it creates its cgroup
// namespace, so the namespace's root, and the only cgroup tree a cgroup2 mount inside shows, is
// this one: a delegated cgroup program can attach to the sandbox's own processes and nowhere
// else. And for its CgroupLimits, the same directory where a controller is on cgroup2, or one
// in each v1 hierarchy that holds a limited controller (the hybrid layout of this project's
// machines), which the child enters too.
class SandboxCgroup {
 public:
  // Makes `tokenbox-<launcher pid>-<n>` in the launcher's cgroup of the cgroup2 hierarchy when
  // `own_cgroup2` (and the machine has one), and where `limits` need it; first removes those
  // whose launcher is gone (a SIGKILLed one could not). nullptr when there is nothing to make.
  // An error when a limit cannot be enforced: its controller is missing, or tokenbox's cgroup
  // cannot give it to children; the error says which and what to do.
  // `watch_launcher`: a process of root's also waits for the launcher's end, however it ends,
  // and then kills and removes each cgroup; for a sandbox without a pid namespace, whose
  // processes the kernel does not end with the launcher.
  static absl::StatusOr<std::shared_ptr<const SandboxCgroup>> Create(bool own_cgroup2,
                                                                     const CgroupLimits& limits,
                                                                     bool watch_launcher);
  // Makes `launch-<n>` below `parent`'s cgroup2 directory (a fork server's cgroup) for one
  // launch without a pid namespace of its own, whose removal then ends what that launch left
  // behind, while the fork server serves on. It holds `parent`, whose watcher (if any) also
  // ends and removes it.
  static absl::StatusOr<std::shared_ptr<const SandboxCgroup>> CreateBelow(
      std::shared_ptr<const SandboxCgroup> parent);

  SandboxCgroup(const SandboxCgroup&) = delete;
  SandboxCgroup& operator=(const SandboxCgroup&) = delete;
  // Kills what is left in it, waits (a bounded time) until it is empty, and removes it.
  ~SandboxCgroup();

  // The cgroup2 directory, open (-1 when there is none: only v1 limits); its path.
  int dir_fd() const { return dir_.get(); }
  const std::string& path() const { return path_; }
  // Every directory of the sandbox's, which the child enters (sandbox/child/cgroup_entry.h).
  std::vector<int> dir_fds() const;

  // Moves process `pid` into it. For a launch the zygote forked, which waits for this before it
  // can fork or exec: the launcher is root, the sandbox's user may not move processes.
  absl::Status MoveIn(pid_t pid) const;

 private:
  using LimitFiles = std::vector<std::pair<std::string, std::string>>;

  SandboxCgroup(std::string path, UniqueFd dir) : path_(std::move(path)), dir_(std::move(dir)) {}
  // Makes `tokenbox-<launcher pid>-<n>` in the launcher's cgroup of `hierarchy`.
  static absl::StatusOr<std::unique_ptr<SandboxCgroup>> MakeIn(const CgroupHierarchy& hierarchy,
                                                               bool watch_launcher,
                                                               absl::string_view remedy);
  // Enforces one controller's limit: writes `v1_files` (name, value) into this sandbox's cgroup
  // of the controller's v1 hierarchy (made if need be), or `v2_files` into the cgroup2 one.
  absl::Status Limit(const CgroupLayout& layout, absl::string_view controller,
                     const LimitFiles& v1_files, const LimitFiles& v2_files,
                     bool watch_launcher);
  static absl::Status WriteFile(int dir_fd, const std::string& dir_path, absl::string_view file,
                                absl::string_view value, absl::string_view remedy);
  // Makes `<prefix><n>` below `parent_fd` (at `parent_path`), with the first n not taken.
  static absl::StatusOr<std::unique_ptr<SandboxCgroup>> MakeBelow(int parent_fd,
                                                                  const std::string& parent_path,
                                                                  absl::string_view prefix,
                                                                  absl::string_view remedy);

  std::string path_;
  UniqueFd dir_;
  std::shared_ptr<const SandboxCgroup> parent_;  // Removed after this one, never before.
  std::vector<std::unique_ptr<SandboxCgroup>> companions_;  // In v1 hierarchies, for limits.
  std::unique_ptr<LauncherWatcher> watcher_;  // Removes it if the launcher dies first.
};

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_HOST_RESOURCES_SANDBOX_CGROUP_H_
