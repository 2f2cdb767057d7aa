#ifndef TOKENBOX_SANDBOX_HOST_RESOURCES_HOST_ID_LEASE_H_
#define TOKENBOX_SANDBOX_HOST_RESOURCES_HOST_ID_LEASE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ns/unique_fd.h"
#include "sandbox/host_resources/launcher_watcher.h"

namespace tokenbox {

// A host uid and gid (the same number) that no other running sandbox has, for one sandbox's
// life: systemd's DynamicUser= for tokenbox. Its user namespace is created by that uid, so the
// per-user kernel counts the sandbox uses (inotify instances, pending signals, message-queue
// bytes, user namespaces) are its own and not root's, and sandboxes cannot signal, trace or
// share files with one another.
//
// The ids come from a range that systemd documents as unused (docs/SECURITY.md), and a lease is
// an flock()ed file named for the id under kHostIdLockDirectory: whoever holds the lock has the
// id, and the kernel drops the lock when its holder dies, however it dies.
class HostIdLease {
 public:
  static constexpr uint32_t kFirstId = 0x7B000000;  // 2063597568
  static constexpr uint32_t kIdCount = 0x10000;     // 65536: up to 2063663103
  static constexpr const char* kHostIdLockDirectory = "/run/tokenbox/host-ids";

  // Takes a free id, starting the search at a random one so that an id just given back is
  // unlikely to be the next one taken. `sweep_on_release`: whether the release must first kill
  // every process of the id, for a sandbox without a pid namespace (whose processes can leave
  // its process group); with one, the kernel has ended them all when its pid 1 is reaped.
  // `watch_launcher`: a watcher process (sandbox/host_resources/launcher_watcher.h) also holds the lock, and
  // sweeps and gives the id back if the launcher dies first; for such a sandbox without a
  // cgroup of its own, whose removal would end its processes.
  static absl::StatusOr<std::shared_ptr<const HostIdLease>> Acquire(bool sweep_on_release,
                                                                     bool watch_launcher = false);

  HostIdLease(const HostIdLease&) = delete;
  HostIdLease& operator=(const HostIdLease&) = delete;
  // Sweeps if asked to, then removes the lock file and drops the lock.
  ~HostIdLease();

  uint32_t id() const { return id_; }

 private:
  HostIdLease(uint32_t id, UniqueFd lock, std::string path, bool sweep_on_release)
      : id_(id), lock_(std::move(lock)), path_(std::move(path)),
        sweep_on_release_(sweep_on_release) {}

  uint32_t id_;
  UniqueFd lock_;
  std::string path_;
  bool sweep_on_release_;
  std::unique_ptr<LauncherWatcher> watcher_;  // Dismissed once the release has swept.
};

// Whether `uid` is one that HostIdLease gives out.
bool IsLeasedHostId(uint32_t uid);

// Kills every process that runs as host uid `uid`, and every process in a user namespace that
// uid created, in one kill(-1, SIGKILL) made as that uid (a fork sees the signal before it can
// add a process): what a sandbox started, even what left its process group and cleared its
// parent-death signal. From a helper process, so that the caller keeps its own ids; the helper
// is retried when a process of the uid kills it first. Only for a leased uid: for any other,
// this would end that user's own processes.
absl::Status KillEveryProcessOf(uint32_t uid);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_HOST_RESOURCES_HOST_ID_LEASE_H_
