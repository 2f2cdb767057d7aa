#ifndef TOKENBOX_NS_USER_NAMESPACE_H_
#define TOKENBOX_NS_USER_NAMESPACE_H_

#include <sys/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ns/id_map.h"
#include "ns/unique_fd.h"

namespace tokenbox {

// Parent side: gives the user namespace of `pid` its id maps. Writes /proc/PID/setgroups = "deny"
// first (so nothing inside can ever drop a group to slip past a group-deny permission), then
// gid_map, then uid_map. Each file takes exactly one write in a namespace's life.
absl::Status WriteIdMaps(pid_t pid, const IdMap& uid_map, const IdMap& gid_map);

// A user namespace that only names an idmapping (for an idmapped mount, MOUNT_ATTR_IDMAP): made
// by a helper process that unshares it and exits, with `uid_map` and `gid_map` written by the
// caller, which needs CAP_SETUID and CAP_SETGID over the outside ids. Its nsfs fd keeps it.
absl::StatusOr<UniqueFd> MakeIdmappingNamespace(const IdMap& uid_map, const IdMap& gid_map);

// Child side, before unshare(CLONE_NEWUSER): drops every supplementary group while the process
// still may. Afterwards setgroups is denied, and the host groups would otherwise stay attached
// (shown as 65534 inside) and keep granting their file access.
absl::Status DropSupplementaryGroups();

// Child side, after DropSupplementaryGroups() and before unshare(CLONE_NEWUSER), as host root:
// becomes host `uid` and `gid`, so that the user namespace it creates is owned by that uid and
// charges its per-user kernel counts there, not to root. CAP_SYS_ADMIN is kept effective
// through the change, so that the unshare passes the gates on user namespaces made by users
// other than root (Debian's kernel.unprivileged_userns_clone, AppArmor's restriction) as
// root's would; the namespace's creation ends every host capability anyway.
absl::Status BecomeHostUser(uid_t uid, gid_t gid);

// Child side, after the parent wrote the maps: becomes `uid`/`gid` (ids inside the namespace) for
// the real, effective and saved ids, and checks that no supplementary group is left.
// Until this runs the process still acts as its unmapped host uid on the filesystem.
absl::Status EnterMappedIds(uid_t uid, gid_t gid);

}  // namespace tokenbox

#endif  // TOKENBOX_NS_USER_NAMESPACE_H_
