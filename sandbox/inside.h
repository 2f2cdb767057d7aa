#ifndef TOKENBOX_SANDBOX_INSIDE_H_
#define TOKENBOX_SANDBOX_INSIDE_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace tokenbox {

// The environment variables tokenbox sets for the program it launches.
inline constexpr char kTokenFdEnv[] = "TOKENBOX_TOKEN_FD";
// libbpf's own variable: bpf_object loads pick the token up from this bpffs path.
inline constexpr char kLibbpfTokenPathEnv[] = "LIBBPF_BPF_TOKEN_PATH";

// What a program running inside a tokenbox sandbox was given.
struct SandboxEnvironment {
  int token_fd = -1;                      // A BPF token; pass it with BPF_F_TOKEN_FD.
  std::optional<std::string> bpffs_path;  // Where the delegated bpffs is mounted, if it is.
};

// For code running inside the sandbox. Reads TOKENBOX_TOKEN_FD (and LIBBPF_BPF_TOKEN_PATH) and
// checks that the fd really is an open BPF token. Fails with NotFound, saying so plainly, when
// the program is not running in a tokenbox sandbox, and with FailedPrecondition when the variable
// is there but the fd is not a token (closed, or inherited by something that is not tokenbox).
absl::StatusOr<SandboxEnvironment> CurrentSandbox();

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_INSIDE_H_
