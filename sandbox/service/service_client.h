#ifndef TOKENBOX_SANDBOX_SERVICE_SERVICE_CLIENT_H_
#define TOKENBOX_SANDBOX_SERVICE_SERVICE_CLIENT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ns/unique_fd.h"
#include "sandbox/caller_stdio.h"
#include "sandbox/child.h"
#include "sandbox/command.h"
#include "sandbox/launch_options.h"
#include "sandbox/sandbox.h"
#include "sandbox/service/service_protocol.h"

namespace tokenbox {

// The launcher's side of tokenboxd (sandbox/service/service_protocol.h), for a caller who is
// not root: Launch() and ForkServer::Start() come here when the caller cannot delegate a bpffs
// itself.

// Where tokenboxd listens: LaunchOptions::service_socket, else $TOKENBOX_SERVICE_SOCKET, else
// /run/tokenbox/tokenboxd.sock.
std::string ServiceSocketPath(const LaunchOptions& options);
inline constexpr char kDefaultServiceSocket[] = "/run/tokenbox/tokenboxd.sock";

// A connection to tokenboxd, or why there is none (not running, not reachable), with what the
// caller can do about it.
absl::StatusOr<UniqueFd> ConnectToService(const LaunchOptions& options);

// The bind sources of `sandbox`'s view, opened with the caller's own access (O_PATH, following
// symlinks as a root launcher would), for tokenboxd to bind.
absl::StatusOr<std::vector<UniqueFd>> OpenBindSourcesAsCaller(const Sandbox& sandbox);

// A command as a request carries it: its bytes, and its passed fds with the caller's stdio after
// them (those of 0, 1 and 2 it does not replace), which tokenboxd's launch would otherwise not
// have.
struct CommandForService {
  std::string bytes;
  std::vector<int> fds;
};
CommandForService EncodeCommandForService(const Command& command);

// Sends `request` with `fds` on a new connection `sock`, as a set-up failure at kAskService when
// it cannot. tokenboxd may answer before the whole request arrived (a caller it cannot name,
// one with too many connections): its refusal, which says why, is returned then, not the broken
// pipe.
absl::Status SendRequestToService(int sock, const ServiceRequest& request,
                                  const std::vector<int>& fds);

// Waits on `sock` for the reply to a request: the sandbox started (its pidfd, and its terminal
// when the command asked for one), or tokenboxd's refusal, as the set-up failure it is.
struct ServiceStarted {
  ServiceStart start;
  UniqueFd pidfd;
  UniqueFd terminal;
};
absl::StatusOr<ServiceStarted> AwaitServiceStart(int sock, absl::Duration timeout);

// A Child for a sandbox tokenboxd started, served on `channel` (the connection, or a fork-server
// launch's own socket), with the command's deadline, and the caller's stdio to put back after it.
Child ServiceChild(ServiceStarted started, UniqueFd channel, std::optional<absl::Duration> deadline,
                   CallerStdio caller_stdio);

// What tokenboxd's policy grants this caller (tokenbox probe).
absl::StatusOr<ServiceGrant> AskServiceGrant(const LaunchOptions& options);

// Launch(), through tokenboxd.
absl::StatusOr<Child> LaunchThroughService(const Sandbox& sandbox, const Command& command,
                                           const LaunchOptions& options);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_SERVICE_SERVICE_CLIENT_H_
