#include "sandbox/launcher.h"

#include <utility>

#include "sandbox/child/child_setup.h"
#include "sandbox/parent_setup.h"
#include "sandbox/service/service_client.h"
#include "token/process_capabilities.h"

namespace tokenbox {

absl::StatusOr<Child> Launch(const Sandbox& sandbox, const Command& command,
                             const LaunchOptions& options) {
  if (command.kind() == Command::Kind::kForkServerFunction) {
    return absl::InvalidArgumentError(
        "a ForkServerFunction() command runs only through ForkServer::Launch(); give Launch() "
        "the function itself");
  }
  // A launcher that cannot delegate a bpffs itself has tokenboxd launch in its place.
  if (!WhyCannotDelegate().empty()) return LaunchThroughService(sandbox, command, options);
  absl::StatusOr<ParentSetup::Started> started = ParentSetup::Start(
      sandbox, command.timeout(), CallerStdio::SharedWith(command), options,
      command.own_terminal().has_value() ? ExpectedStart::kProgramWithOwnTerminal
                                         : ExpectedStart::kProgram,
      [&](const Sandbox& leased, UniqueFd sock, const ChildContext& context) {
        RunSandboxChild(leased, command, context, std::move(sock));
      });
  if (!started.ok()) return started.status();
  return std::move(started->child);
}

}  // namespace tokenbox
