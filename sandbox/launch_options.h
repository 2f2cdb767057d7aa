#ifndef TOKENBOX_SANDBOX_LAUNCH_OPTIONS_H_
#define TOKENBOX_SANDBOX_LAUNCH_OPTIONS_H_

#include <string>

#include "absl/time/time.h"

namespace tokenbox {

// How a launch is carried out, as opposed to what it confines or runs.
struct LaunchOptions {
  bool verbose = false;  // Print each set-up step and its time to stderr.
  // How long the launcher and the child wait for each other at any one step of the set-up
  // before they give up on it.
  absl::Duration setup_timeout = absl::Seconds(30);
  // A launcher that is not root has tokenboxd launch in its place: where tokenboxd listens
  // (empty: $TOKENBOX_SERVICE_SOCKET, else /run/tokenbox/tokenboxd.sock).
  std::string service_socket;
};

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_LAUNCH_OPTIONS_H_
