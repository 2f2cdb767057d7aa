#ifndef TOKENBOX_SANDBOX_LAUNCH_REQUEST_H_
#define TOKENBOX_SANDBOX_LAUNCH_REQUEST_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ns/unique_fd.h"
#include "sandbox/sandbox_spec.h"

namespace tokenbox {

// The per-launch part of a SandboxSpec (argv, environment, working directory, rlimits, where
// passed fds go, and whether the sandbox's own function runs), as bytes a fork server's zygote
// can read. The fds themselves travel beside the bytes, in order.
class LaunchRequestCodec {
 public:
  static std::string Encode(const SandboxSpec& launch);
  // `sandbox` with the decoded launch applied; `fds` are the passed fds, in the encoded order.
  // Refuses truncated, inconsistent or oversized input with a clear error.
  static absl::StatusOr<SandboxSpec> Decode(const SandboxSpec& sandbox, absl::string_view bytes,
                                            std::vector<UniqueFd> fds);
};

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_LAUNCH_REQUEST_H_
