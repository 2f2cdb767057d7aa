#ifndef TOKENBOX_SANDBOX_SANDBOX_CGROUP_H_
#define TOKENBOX_SANDBOX_SANDBOX_CGROUP_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ns/unique_fd.h"
#include "sandbox/launcher_watcher.h"

namespace tokenbox {

// A cgroup v2 directory of the sandbox's own, made below the launcher's cgroup for one launch
// (or one fork server) and removed after it. The sandbox's child enters it before it creates its
// cgroup namespace, so the namespace's root, and the only cgroup tree a cgroup2 mount inside
// shows, is this one: a delegated cgroup program can attach to the sandbox's own processes and
// nowhere else. Its removal kills whatever is still in it (cgroup.kill), which the program
// cannot leave.
class SandboxCgroup {
 public:
  // Makes `tokenbox-<launcher pid>-<n>` in the launcher's cgroup of the cgroup2 hierarchy;
  // first removes those whose launcher is gone (a SIGKILLed one could not). nullptr when the
  // machine has no cgroup2 hierarchy, where no cgroup program can attach anywhere.
  // `watch_launcher`: a process of root's also waits for the launcher's end, however it ends,
  // and then kills and removes the cgroup; for a sandbox without a pid namespace, whose
  // processes the kernel does not end with the launcher.
  static absl::StatusOr<std::shared_ptr<const SandboxCgroup>> Create(bool watch_launcher);
  // Makes `launch-<n>` below `parent` (a fork server's cgroup) for one launch without a pid
  // namespace of its own, whose removal then ends what that launch left behind, while the fork
  // server serves on. It holds `parent`, whose watcher (if any) also ends and removes it.
  static absl::StatusOr<std::shared_ptr<const SandboxCgroup>> CreateBelow(
      std::shared_ptr<const SandboxCgroup> parent);

  SandboxCgroup(const SandboxCgroup&) = delete;
  SandboxCgroup& operator=(const SandboxCgroup&) = delete;
  // Kills what is left in it, waits (a bounded time) until it is empty, and removes it.
  ~SandboxCgroup();

  // The directory, open; the child writes itself into its cgroup.procs (EnterCgroup()).
  int dir_fd() const { return dir_.get(); }
  const std::string& path() const { return path_; }

  // Moves process `pid` into it. For a launch the zygote forked, which waits for this before it
  // can fork or exec: the launcher is root, the sandbox's user may not move processes.
  absl::Status MoveIn(pid_t pid) const;

 private:
  SandboxCgroup(std::string path, UniqueFd dir) : path_(std::move(path)), dir_(std::move(dir)) {}
  // Makes `<prefix><n>` below `parent_fd` (at `parent_path`), with the first n not taken.
  static absl::StatusOr<std::unique_ptr<SandboxCgroup>> MakeBelow(int parent_fd,
                                                                  const std::string& parent_path,
                                                                  absl::string_view prefix,
                                                                  absl::string_view remedy);

  std::string path_;
  UniqueFd dir_;
  std::shared_ptr<const SandboxCgroup> parent_;  // Removed after this one, never before.
  std::unique_ptr<LauncherWatcher> watcher_;  // Removes it if the launcher dies first.
};

// Child side, before its cgroup namespace exists: moves the calling process into the cgroup
// whose directory `dir_fd` is.
absl::Status EnterCgroup(int dir_fd);

// Child side, in its own mount and cgroup namespaces: what /sys/fs/cgroup shows. A cgroup2
// hierarchy (at /sys/fs/cgroup, or at /sys/fs/cgroup/unified on a hybrid layout) is mounted
// afresh, read-only, and shows only the sandbox's own cgroup; cgroup v1 hierarchies, which no
// BPF program attaches to, are hidden under an empty read-only tmpfs.
absl::Status MountCgroupView();

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_SANDBOX_CGROUP_H_
