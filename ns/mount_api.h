#ifndef TOKENBOX_NS_MOUNT_API_H_
#define TOKENBOX_NS_MOUNT_API_H_

#include <linux/mount.h>

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ns/unique_fd.h"

namespace tokenbox {

// Typed wrappers for the new mount API (Linux >= 5.2). They call syscall() directly: glibc 2.36
// declares them in <sys/mount.h>, but that header clashes with <linux/mount.h>, which is where
// the flag values live. Every error names the syscall, its key argument and the errno, and for
// fsconfig also the filesystem's own log line ("e bpf: ..."), which says why a value was refused.

// fsopen(fs_name, FSOPEN_CLOEXEC): a filesystem context, not yet a mount.
absl::StatusOr<UniqueFd> FsOpen(absl::string_view fs_name);

// fsconfig(FSCONFIG_SET_STRING, key, value).
absl::Status FsConfigSetString(int fs_fd, absl::string_view key, absl::string_view value);

// fsconfig(FSCONFIG_SET_FLAG, key).
absl::Status FsConfigSetFlag(int fs_fd, absl::string_view key);

// fsconfig(FSCONFIG_CMD_CREATE): builds the superblock from the options set so far. Its error
// names the context by its fd number, since the fd cannot tell which filesystem it is for.
absl::Status FsConfigCreate(int fs_fd);

// fsmount(fs_fd, FSMOUNT_CLOEXEC, attr_flags): a detached mount, as an O_PATH-like fd.
absl::StatusOr<UniqueFd> FsMount(int fs_fd, unsigned int attr_flags = 0);

// fspick(dirfd, path, FSPICK_CLOEXEC | flags): a context to reconfigure an existing mount.
absl::StatusOr<UniqueFd> FsPick(int dirfd, absl::string_view path, unsigned int flags = 0);

// move_mount(from_dirfd, from_path, to_dirfd, to_path, flags).
absl::Status MoveMount(int from_dirfd, absl::string_view from_path, int to_dirfd,
                       absl::string_view to_path, unsigned int flags);

// Attaches the detached mount `mount_fd` at `target` (MOVE_MOUNT_F_EMPTY_PATH).
absl::Status AttachMount(int mount_fd, absl::string_view target);

// open_tree(dirfd, path, OPEN_TREE_CLOEXEC | flags).
absl::StatusOr<UniqueFd> OpenTree(int dirfd, absl::string_view path, unsigned int flags = 0);

// mount_setattr(dirfd, path, flags, {attr_set, attr_clr}): changes mount attributes, such as
// MOUNT_ATTR_RDONLY, of one mount or (AT_RECURSIVE) a whole tree.
absl::Status MountSetAttr(int dirfd, absl::string_view path, unsigned int flags,
                          uint64_t attr_set, uint64_t attr_clr);

// Makes the detached mount `tree_fd` (an open_tree clone) idmapped by the user namespace
// `userns_fd` (MOUNT_ATTR_IDMAP): what that namespace maps inside to outside, files on the mount
// show as, and what is written through it by the outside id lands as the inside one.
absl::Status IdmapMount(int tree_fd, int userns_fd);

// Opens the root of the mount behind `mount_fd` as an ordinary O_RDONLY|O_DIRECTORY fd. The fd
// fsmount returns is O_PATH-like, and some consumers (BPF_TOKEN_CREATE) refuse it with EBADF.
absl::StatusOr<UniqueFd> OpenMountRoot(int mount_fd);

}  // namespace tokenbox

#endif  // TOKENBOX_NS_MOUNT_API_H_
