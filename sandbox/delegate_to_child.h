#ifndef TOKENBOX_SANDBOX_DELEGATE_TO_CHILD_H_
#define TOKENBOX_SANDBOX_DELEGATE_TO_CHILD_H_

#include <sys/types.h>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "ns/id_map.h"
#include "sandbox/setup_progress.h"
#include "token/delegation_policy.h"

namespace tokenbox {

// The launcher's half of the handshake (sandbox/protocol.h) with the child `pid`, on `sock`,
// which needs its privilege: writes the child's id maps once it has unshared its user namespace
// (sandbox/child/child_namespaces.h), then delegates `policy` on the bpffs context the child
// sends (token/bpffs_config.h) and sends the mount back (sandbox/child/child_bpffs.h). Returns
// once the mount is sent. `timeout` bounds each wait for the child; a failure the child reports
// arrives as the child's own.
absl::Status DelegateToChild(const LauncherSteps& steps, int sock, pid_t pid, const IdMap& uid_map,
                             const IdMap& gid_map, const DelegationPolicy& policy,
                             absl::Duration timeout);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_DELEGATE_TO_CHILD_H_
