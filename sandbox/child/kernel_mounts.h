#ifndef TOKENBOX_SANDBOX_CHILD_KERNEL_MOUNTS_H_
#define TOKENBOX_SANDBOX_CHILD_KERNEL_MOUNTS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace tokenbox {

// The kernel's filesystems of the sandbox's own, which the child mounts into its view
// (sandbox/child/filesystem_view.h arranges the rest; sandbox/child/child_bpffs.h attaches the
// delegated bpffs). Each runs in the child's own mount namespace.

// Mounts the proc of the caller's pid namespace at each of `mount_points`. The caller needs
// CAP_SYS_ADMIN in the user namespace that owns its pid namespace.
absl::Status MountProc(const std::vector<std::string>& mount_points);

// For pid 1 of a pid namespace the launcher made, still root on the host (whose user namespace
// owns that pid namespace, so nothing in the sandbox's could mount its proc later): a mount
// namespace of its own, private, with the namespace's proc on /proc. The filesystem view keeps
// it.
absl::Status MountOwnProc();

// For a fork-server launch, pid 1 of a pid namespace of its own in the zygote's mount namespace:
// a mount namespace of its own for its proc (mounts are private already).
absl::Status UnshareMountNamespaceForProc();

// A devpts instance of the sandbox's own at /dev/pts (where /dev/pts exists), at most
// kMaxPseudoTerminals terminals: the host's devpts is one pool for the whole machine, which a
// sandbox could empty, and root's openpty() would then fail. /dev/ptmx opens the pts next to
// it, and the kernel keeps kernel.pty.reserve terminals that only the host's instance may use.
inline constexpr int kMaxPseudoTerminals = 64;
absl::Status MountOwnDevpts();

// In the child's own mount and cgroup namespaces: what /sys/fs/cgroup shows. A cgroup2
// hierarchy (at /sys/fs/cgroup, or at /sys/fs/cgroup/unified on a hybrid layout) is mounted
// afresh, read-only, and shows only the sandbox's own cgroup; cgroup v1 hierarchies, which no
// BPF program attaches to, are hidden under an empty read-only tmpfs.
absl::Status MountCgroupView();

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CHILD_KERNEL_MOUNTS_H_
