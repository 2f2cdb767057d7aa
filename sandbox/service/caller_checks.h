#ifndef TOKENBOX_SANDBOX_SERVICE_CALLER_CHECKS_H_
#define TOKENBOX_SANDBOX_SERVICE_CALLER_CHECKS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ns/unique_fd.h"
#include "sandbox/command.h"
#include "sandbox/sandbox.h"
#include "sandbox/service/service_protocol.h"

namespace tokenbox {

// What tokenboxd learns of a caller from the kernel, and what it checks of a request before
// and beside the grant.

// Who is at the other end of a connection, as the kernel tells it: never what the caller says.
struct Peer {
  pid_t pid = -1;
  uid_t uid = 0;
  gid_t gid = 0;
  UniqueFd pidfd;    // SO_PEERPIDFD where the kernel has it (6.5), else pidfd_open(pid).
  std::string user;  // The name of uid in the user database.
};
absl::StatusOr<Peer> PeerOf(int connection);

// The resource limits the caller has: a sandbox it asks for starts with them, so that tokenboxd
// is no way around them. Read from the kernel (/proc/PID/limits, a line per RLIMIT_* in their
// order, as fs/proc/base.c prints them), and checked to be the caller's while read.
absl::StatusOr<std::vector<ResourceLimit>> CallerLimits(const Peer& peer);

// What a sandbox asked for and not granted whatever the policy: what tokenboxd's launch cannot
// give a caller, or gives only to root.
absl::Status CheckWhatNoGrantGives(const Sandbox& sandbox, const Peer& peer);

// That every fd of `received` from `first_bind_source` on is of a kind a caller may hand a
// sandbox: its bind sources directories or regular files, its passed fds no directory, none on
// a kernel filesystem that gives more than the caller's own access (nsfs, proc, cgroup, bpf,
// sysfs, tracefs, debugfs, securityfs; devpts only as a passed fd, for a terminal).
absl::Status CheckFds(const ReceivedRequest& received, size_t first_bind_source);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_SERVICE_CALLER_CHECKS_H_
