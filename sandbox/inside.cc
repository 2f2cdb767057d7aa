#include "sandbox/inside.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tokenbox {

absl::StatusOr<SandboxEnvironment> CurrentSandbox() {
  const char* fd_text = getenv(kTokenFdEnv);
  if (fd_text == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "not running in a tokenbox sandbox: ", kTokenFdEnv,
        " is not set (start the program with: tokenbox run [OPTIONS] -- PROGRAM)"));
  }
  SandboxEnvironment env;
  if (!absl::SimpleAtoi(fd_text, &env.token_fd) || env.token_fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(kTokenFdEnv, "='", fd_text, "' is not a file descriptor number"));
  }
  // A BPF token's fdinfo carries its allowed_* masks; any other fd (or none) does not.
  std::ifstream fdinfo(absl::StrCat("/proc/self/fdinfo/", env.token_fd));
  std::string line;
  bool is_token = false;
  while (fdinfo && std::getline(fdinfo, line)) {
    if (absl::StartsWith(line, "allowed_cmds:")) is_token = true;
  }
  if (!is_token) {
    return absl::FailedPreconditionError(absl::StrCat(
        kTokenFdEnv, "=", env.token_fd, " but that fd is not an open BPF token (was it closed, "
                                        "or the variable inherited from an outer sandbox?)"));
  }
  if (const char* path = getenv(kLibbpfTokenPathEnv); path != nullptr && *path != '\0') {
    env.bpffs_path = path;
  }
  return env;
}

}  // namespace tokenbox
