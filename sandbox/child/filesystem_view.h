#ifndef TOKENBOX_SANDBOX_CHILD_FILESYSTEM_VIEW_H_
#define TOKENBOX_SANDBOX_CHILD_FILESYSTEM_VIEW_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ns/unique_fd.h"
#include "sandbox/sandbox.h"

namespace tokenbox {

// Arranges what of the host the sandbox sees, in the child's own mount namespace (whose mounts
// are already private): the base `view` names (the host read-only with private scratch tmpfs
// mounts, or an empty root), then its operations in order, with `bind_sources` from
// OpenBindSources(). `mount_points` are made where missing (in the sandbox's own tmpfs mounts
// only) for what later steps mount: the delegated bpffs, /proc. `own_proc_mounted`: /proc holds
// the proc of the sandbox's pid namespace already, and each --proc destination gets it too;
// otherwise pid 1 mounts one there after the view. With an empty root, the process ends inside
// it (pivot_root); the host's tree is no longer reachable.
absl::Status ApplyFilesystemView(const FilesystemView& view, std::vector<UniqueFd> bind_sources,
                                 const std::vector<std::string>& mount_points,
                                 bool own_proc_mounted);

// Where the sandbox's proc goes: the host's place, unless the root is empty, and every --proc
// destination.
std::vector<std::string> ProcMountPoints(const FilesystemView& view);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CHILD_FILESYSTEM_VIEW_H_
