// A program that links the installed library as a user's build would: pkg-config's flags only.
// It launches a program in a delegated sandbox and prints how it ended.
#include <cstdio>
#include <string>

#include "sandbox/launcher.h"

int main() {
  absl::StatusOr<tokenbox::DelegationPolicy> policy =
      tokenbox::ParseDelegationPolicy("map_create", "array", "", "");
  if (!policy.ok()) return 3;
  absl::StatusOr<tokenbox::Sandbox> sandbox = tokenbox::SandboxBuilder().Policy(*policy).Build();
  absl::StatusOr<tokenbox::Command> command =
      tokenbox::CommandBuilder().Program({"/bin/sh", "-c", "exit 7"}).Build();
  if (!sandbox.ok() || !command.ok()) return 4;
  absl::StatusOr<tokenbox::Child> child = tokenbox::Launch(*sandbox, *command);
  if (!child.ok()) {
    std::fprintf(stderr, "%s\n", std::string(child.status().message()).c_str());
    return 5;
  }
  absl::StatusOr<tokenbox::ExitStatus> status = child->Wait();
  std::printf("%s\n", status.ok() ? status->ToString().c_str() : "wait failed");
  return 0;
}
