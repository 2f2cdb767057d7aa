#include "sandbox/filesystem_view.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "ns/errno_status.h"
#include "ns/mount_api.h"
#include "ns/unique_fd.h"

namespace tokenbox {

absl::Status ApplyFilesystemView(const FilesystemView& view) {
  // Clone the writable directories first, while they still are writable: a clone keeps its
  // attributes when the tree it came from turns read-only, and goes back on top afterwards.
  std::vector<UniqueFd> clones;
  for (const std::string& path : view.writable_paths) {
    absl::StatusOr<UniqueFd> clone = OpenTree(AT_FDCWD, path, OPEN_TREE_CLONE | AT_RECURSIVE);
    if (!clone.ok()) return AppendRemedy(clone.status(), "a writable path must exist");
    clones.push_back(*std::move(clone));
  }
  if (view.read_only_host) {
    if (absl::Status s = MountSetAttr(AT_FDCWD, "/", AT_RECURSIVE, MOUNT_ATTR_RDONLY, 0); !s.ok()) {
      return s;
    }
  }
  if (view.private_tmp &&
      mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=25%") != 0) {
    return ErrnoStatus(errno, "mount(tmpfs, /tmp)");
  }
  for (size_t i = 0; i < clones.size(); ++i) {
    const std::string& path = view.writable_paths[i];
    // Under a private /tmp the mount point is gone; the tmpfs is writable, so make it.
    if (view.private_tmp && absl::StartsWith(path, "/tmp/")) {
      for (size_t slash = path.find('/', 5); ; slash = path.find('/', slash + 1)) {
        mkdir(path.substr(0, slash).c_str(), 0755);
        if (slash == std::string::npos) break;
      }
    }
    if (absl::Status s = AttachMount(clones[i].get(), path); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace tokenbox
