#ifndef TOKENBOX_SANDBOX_SERVICE_SERVICE_PROTOCOL_H_
#define TOKENBOX_SANDBOX_SERVICE_SERVICE_PROTOCOL_H_

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ns/fd_passing.h"
#include "ns/unique_fd.h"
#include "sandbox/exit_status.h"
#include "token/capability_set.h"
#include "token/delegation_policy.h"

namespace tokenbox {

// Everything between a launcher that is not root and tokenboxd, which launches the sandbox in
// its place, as a root launcher would. One SOCK_SEQPACKET connection to the daemon's socket per
// sandbox (or per fork server, and then one socketpair per launch, whose other end the launcher
// sends in the launch's request), held for the sandbox's life: when the launcher closes it, or
// dies, the daemon ends the sandbox.
//
//   launcher                                   tokenboxd
//   kServiceRequestPart (bytes), ...  ------>  at most kMaxServiceRequestBytes in all
//   kServiceFds (up to 16 fds), ...   ------>  as many as the request says
//   kServiceRequestEnd                ------>  checks the caller's grant, launches
//                <------------------------  kServiceStarted (pidfd of the sandbox; its terminal)
//                                            or kServiceRefused (a set-up failure)
//   kServiceKill, kServiceSignal      ------>
//                <------------------------  kServiceEnded (how the sandbox ended), then closes
//
// A fork server's connection gets kServiceStarted once the server is ready, and then takes
// requests of kind kLaunchInServer, whose replies and end go on the launch's own socket.
inline constexpr uint32_t kServiceProtocolVersion = 1;

enum ServiceMessage : uint32_t {
  kServiceRequestPart = 101,
  kServiceFds = 102,
  kServiceRequestEnd = 103,
  kServiceStarted = 104,   // Payload: EncodeServiceStart(); fds: the pidfd, then the terminal.
  kServiceRefused = 105,   // Payload: EncodeSetupFailure().
  kServiceKill = 106,
  kServiceSignal = 107,    // Payload: EncodeSignal(); one of the signals pid 1 relays.
  kServiceEnded = 108,     // Payload: EncodeServiceEnd().
  kServiceGrantIs = 109,   // Payload: EncodeServiceGrant(), the answer to kShowGrant.
};

// What one request may carry: bounded, so that a caller cannot make the daemon hold more.
inline constexpr size_t kMaxServiceRequestBytes = size_t{1} << 20;
inline constexpr size_t kMaxServiceRequestFds = 128;

// What a launcher asks tokenboxd for.
struct ServiceRequest {
  enum class Kind : uint32_t {
    kLaunch,          // `sandbox` and `command`: start the command in the sandbox.
    kForkServer,      // `sandbox`: prepare it as a fork server on this connection.
    kLaunchInServer,  // `command`, on a fork server's connection: launch it there.
    kShowGrant,       // Nothing: what would the caller be granted (tokenbox probe)?
  };
  Kind kind = Kind::kLaunch;
  std::string sandbox;  // SandboxCodec bytes.
  std::string command;  // CommandCodec bytes.
  // The fds, in this order: the launch's own socket (kLaunchInServer), the bind sources (one per
  // bind operation of the sandbox, in order), then the command's passed fds.
  uint32_t bind_sources = 0;
  uint32_t passed_fds = 0;
  bool verbose = false;
};

// A request's bytes, as they cross: what the parts of one request add up to. Decoding refuses
// another protocol version, and any byte that is not exactly one encoded request.
std::string EncodeServiceRequest(const ServiceRequest& request);
absl::StatusOr<ServiceRequest> DecodeServiceRequest(absl::string_view bytes);

// Sends `request` with `fds` (in the order above) as one request.
absl::Status SendServiceRequest(int sock, const ServiceRequest& request,
                                const std::vector<int>& fds);

// A request as it arrived: its parts, and the fds that came with it.
struct ReceivedRequest {
  ServiceRequest request;
  std::vector<UniqueFd> fds;
};

// Receives one request, its first message within `first_timeout` and each other within
// `timeout` of the last, refusing one that breaks a bound or the order of messages, with a
// version other than this one, or with other fds than it says.
absl::StatusOr<ReceivedRequest> ReceiveServiceRequest(int sock, absl::Duration first_timeout,
                                                      absl::Duration timeout);

// kServiceStarted: the sandbox's first process, as the daemon sees it, and its host uid.
struct ServiceStart {
  pid_t pid = -1;
  uint32_t host_uid = 0;
  bool has_terminal = false;  // Its primary end follows the pidfd.
};
std::string EncodeServiceStart(const ServiceStart& start);
absl::StatusOr<ServiceStart> DecodeServiceStart(absl::string_view payload);

// kServiceEnded: how the sandbox ended, and the resources its first process used.
struct ServiceEnd {
  ExitStatus status;
  rusage usage = {};
};
std::string EncodeServiceEnd(const ServiceEnd& end);
absl::StatusOr<ServiceEnd> DecodeServiceEnd(absl::string_view payload);

// kServiceGrantIs: what the policy grants the caller, by which lines of which file.
struct ServiceGrant {
  std::string policy_file;
  std::vector<int> lines;
  DelegationPolicy policy;
  CapabilitySet caps;  // Besides CAP_BPF.
  bool host_tracing = false;
};
std::string EncodeServiceGrant(const ServiceGrant& grant);
absl::StatusOr<ServiceGrant> DecodeServiceGrant(absl::string_view payload);

// kServiceSignal: a signal number, one of those the sandbox's pid 1 relays.
absl::StatusOr<int> DecodeSignal(absl::string_view payload);
// Sends it on `sock` without allocating or waiting, so that a signal handler may: what it sends
// is lost if the socket is full or gone.
void SendSignalFromHandler(int sock, int sig);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_SERVICE_SERVICE_PROTOCOL_H_
