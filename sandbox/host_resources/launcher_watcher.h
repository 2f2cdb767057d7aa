#ifndef TOKENBOX_SANDBOX_HOST_RESOURCES_LAUNCHER_WATCHER_H_
#define TOKENBOX_SANDBOX_HOST_RESOURCES_LAUNCHER_WATCHER_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "ns/unique_fd.h"

namespace tokenbox {

// A process of root's, forked now, that waits for the launcher's end, however it ends (SIGKILL
// included), and then cleans up what the kernel does not end with the launcher: the processes
// of a sandbox without a pid namespace. It holds the read end of a pipe whose write end only
// this object holds, and of the launcher's fds only `keep`, renumbered 1, 2, ... in order (the
// callback finds them there); nothing else, so that no pipe of the launcher's misses its
// end-of-file. Destroying the object dismisses it: the launcher cleaned up itself.
class LauncherWatcher {
 public:
  // `on_launcher_end` runs in the watcher, which is a copy of the launcher made by fork(): like
  // the sandbox's child, it may use malloc but no lock another thread could have held.
  static absl::StatusOr<std::unique_ptr<LauncherWatcher>> Start(
      const std::vector<int>& keep, const std::function<void()>& on_launcher_end);

  LauncherWatcher(const LauncherWatcher&) = delete;
  LauncherWatcher& operator=(const LauncherWatcher&) = delete;
  // Dismisses the watcher (it exits without calling back) and reaps it.
  ~LauncherWatcher();

 private:
  LauncherWatcher(UniqueFd pipe, pid_t pid) : pipe_(std::move(pipe)), pid_(pid) {}

  UniqueFd pipe_;  // Its write end: a byte dismisses the watcher; end-of-file is the launcher's end.
  pid_t pid_;
};

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_HOST_RESOURCES_LAUNCHER_WATCHER_H_
