#ifndef TOKENBOX_SANDBOX_CHILD_BIND_SOURCE_H_
#define TOKENBOX_SANDBOX_CHILD_BIND_SOURCE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ns/unique_fd.h"
#include "sandbox/sandbox.h"

namespace tokenbox {

// Opens the host path `path` as O_PATH, component by component, following a symlink only where
// the directory that holds it is root's and writable by no one else: a link that a user could
// have placed (in /tmp, in a home directory) would let that user choose what root binds in.
absl::StatusOr<UniqueFd> OpenHostSource(const std::string& path);

// The host trees that the view's bind operations name, cloned (open_tree, recursive) while the
// child is still the launcher's copy in the host's namespaces, so that they are the launcher's
// resolution of each path; each made nosuid and nodev, and read-only for --ro-bind. One per
// operation, in order; invalid for operations that bind nothing.
absl::StatusOr<std::vector<UniqueFd>> OpenBindSources(const FilesystemView& view);

// The same for sources another user opened, and tokenboxd received (`fds`, one per bind
// operation, in order): each cloned alone, without the mounts below it, which that user's bind
// should not bring in (the host's /proc, its cgroup hierarchies). The writable ones take the
// idmapping of the user namespace `idmapping` (unless it is -1), which shows that user's files
// as the sandbox's, so that what the sandbox writes there is that user's; one that cannot be
// idmapped is refused. The read-only ones are bound as they are: there, that user's own files
// show as nobody's, out of the leased uid's reach as on the host.
absl::StatusOr<std::vector<UniqueFd>> CloneProvidedBindSources(const FilesystemView& view,
                                                               const std::vector<int>& fds,
                                                               int idmapping);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CHILD_BIND_SOURCE_H_
