#ifndef TOKENBOX_SANDBOX_SERVICE_SERVICE_SESSION_H_
#define TOKENBOX_SANDBOX_SERVICE_SERVICE_SESSION_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ns/unique_fd.h"
#include "sandbox/child.h"
#include "sandbox/launch_options.h"
#include "sandbox/service/caller_checks.h"
#include "sandbox/service/grant_policy.h"
#include "sandbox/service/service_protocol.h"

namespace tokenbox {

class ForkServer;

// How tokenboxd serves its callers.
struct ServiceConfig {
  std::string policy_path = kDefaultPolicyFile;
  // How long a caller may take over each message of a request before it is dropped.
  absl::Duration request_timeout = absl::Seconds(10);
  LaunchOptions launch;
  // Where each request's one line goes (tokenboxd's stderr, by default).
  std::function<void(absl::string_view line)> log;
};


// tokenboxd's side of one connection: the caller's identity from the kernel, its request, the
// grant the administrator's policy gives it, and then, if that covers the request, the sandbox
// (or fork server) a root launcher would have started, until it ends or the caller closes the
// connection, which ends it. Every fd the caller sent is checked for what it is before use;
// nothing the caller says about itself is believed.
class ServiceSession {
 public:
  // Serves `connection` to its end. Returns nothing: each failure goes to the caller as one
  // refusal line, and to the log.
  static void Serve(UniqueFd connection, const ServiceConfig& config);

 private:
  ServiceSession(UniqueFd connection, Peer peer, const ServiceConfig& config)
      : connection_(std::move(connection)), peer_(std::move(peer)), config_(config) {}

  // One request, granted or refused; the sandbox or fork server it starts is served to its end.
  void ServeRequest(ReceivedRequest received);
  // The request's sandbox, decoded, within `grant`, asking nothing no grant gives, with bind
  // sources and passed fds of kinds a caller may pass; else the set-up failure that says why.
  absl::StatusOr<Sandbox> GrantedSandbox(const ReceivedRequest& received, const GrantPolicy& policy,
                                         const Grant& grant) const;
  absl::Status Launch(ReceivedRequest& received, const GrantPolicy& policy, const Grant& grant);
  absl::Status StartForkServer(ReceivedRequest& received, const GrantPolicy& policy,
                               const Grant& grant);
  // A log line's beginning: who asked, and what.
  struct Asked {
    std::string who;
    std::string what;
    std::function<void(absl::string_view line)> log;
    void Log(absl::string_view outcome) const;
  };
  Asked Ask(std::string what) const;
  // Relays what the caller sends on `channel` to `child` (kill, signals) until it ends, then
  // tells the caller how; on a thread of a fork-server launch's own, which may outlive its
  // session.
  static void Relay(int channel, Child& child, const Asked& asked);
  void Refuse(int channel, const absl::Status& failure, const std::string& what) const;

  UniqueFd connection_;
  Peer peer_;
  const ServiceConfig& config_;
};

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_SERVICE_SERVICE_SESSION_H_
