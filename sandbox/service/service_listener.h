#ifndef TOKENBOX_SANDBOX_SERVICE_SERVICE_LISTENER_H_
#define TOKENBOX_SANDBOX_SERVICE_SERVICE_LISTENER_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "ns/unique_fd.h"
#include "sandbox/service/service_session.h"

namespace tokenbox {

// How many callers tokenboxd serves at once, in all and from one user: a caller cannot make it
// hold more.
struct ListenerLimits {
  size_t connections = 1024;
  size_t per_user = 64;
};

// tokenboxd's listening socket at `path` (SOCK_SEQPACKET): every user may connect, since the
// policy, not the socket, decides what each is granted. A socket left by a daemon that died is
// replaced; anything else at `path` is refused. The directory is made root's, mode 0755, when
// missing.
absl::StatusOr<UniqueFd> ListenAt(const std::string& path);

// Accepts callers on `listen_fd` and serves each on a thread of its own (ServiceSession), within
// `limits`: one over a limit gets a refusal that says which. Returns only when accepting fails
// for good.
absl::Status ServeCallers(int listen_fd, const ServiceConfig& config, const ListenerLimits& limits);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_SERVICE_SERVICE_LISTENER_H_
