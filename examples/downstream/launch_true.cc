// Launches /bin/true in a delegated sandbox through tokenbox's library: as root, or through
// tokenboxd for a user who is not.
#include <cstdio>

#include "sandbox/launcher.h"
#include "token/delegation_policy.h"

int main() {
  auto sandbox = tokenbox::SandboxBuilder()
                     .Policy(*tokenbox::ParseDelegationPolicy("map_create", "array", "", ""))
                     .Build();
  auto command = tokenbox::CommandBuilder().Program({"/bin/true"}).Build();
  if (!sandbox.ok() || !command.ok()) return 2;
  auto child = tokenbox::Launch(*sandbox, *command);
  if (!child.ok()) {
    std::fprintf(stderr, "%s\n", std::string(child.status().message()).c_str());
    return 1;
  }
  auto status = child->Wait();
  std::printf("sandboxed /bin/true %s\n", status.ok() ? status->ToString().c_str() : "failed");
  return status.ok() && status->ShellExitCode() == 0 ? 0 : 1;
}
