#ifndef TOKENBOX_SANDBOX_CHILD_CHILD_BPFFS_H_
#define TOKENBOX_SANDBOX_CHILD_CHILD_BPFFS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ns/unique_fd.h"

namespace tokenbox {

// The child's half of the delegated bpffs, once it is in its own user and mount namespaces
// (and has arranged its view): opens a bpffs context there, so that the superblock belongs to
// its user namespace, sends it to the launcher on `sock`, and receives it back delegated and
// mounted, detached. With `mount_at`, attaches it there (a directory that must exist inside;
// `host_uid`, the sandbox's user, is named when it cannot reach it). Returns the mount, from
// which the token is made. The caller names the step of a failure here; only a refusal by the
// launcher arrives named already.
absl::StatusOr<UniqueFd> ReceiveDelegatedBpffs(int sock, absl::Duration timeout,
                                               const std::optional<std::string>& mount_at,
                                               uint32_t host_uid);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_CHILD_CHILD_BPFFS_H_
