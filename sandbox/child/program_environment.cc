#include "sandbox/child/program_environment.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sandbox/inside.h"

namespace tokenbox {

std::vector<std::string> ProgramEnvironment(const Sandbox& sandbox, const Command& command,
                                            int token_fd) {
  std::vector<std::string> environment;
  for (const std::string& entry : command.environment()) {
    if (absl::StartsWith(entry, absl::StrCat(kTokenFdEnv, "=")) ||
        absl::StartsWith(entry, absl::StrCat(kLibbpfTokenPathEnv, "="))) {
      continue;  // Stale values from an outer sandbox must not leak in.
    }
    environment.push_back(entry);
  }
  environment.push_back(absl::StrCat(kTokenFdEnv, "=", token_fd));
  if (sandbox.bpffs_path().has_value()) {
    environment.push_back(absl::StrCat(kLibbpfTokenPathEnv, "=", *sandbox.bpffs_path()));
  }
  return environment;
}

}  // namespace tokenbox
