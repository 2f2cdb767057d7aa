#include "sandbox/setup_step.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"

namespace tokenbox {
namespace {

constexpr absl::string_view kStepPayload = "tokenbox/step";

}  // namespace

absl::string_view SetupStepName(SetupStep step) {
  switch (step) {
    case SetupStep::kCheckPrivileges: return "check privileges";
    case SetupStep::kAskService: return "ask tokenboxd";
    case SetupStep::kServiceGrant: return "tokenboxd's grant";
    case SetupStep::kLeaseHostIds: return "lease host ids";
    case SetupStep::kCreateCgroup: return "create the sandbox's cgroup";
    case SetupStep::kCreateHandshakeSocket: return "create handshake socket";
    case SetupStep::kFork: return "fork";
    case SetupStep::kOpenPidfd: return "open pidfd";
    case SetupStep::kWaitForChild: return "wait for the child";
    case SetupStep::kWriteIdMaps: return "write id maps";
    case SetupStep::kWaitForBpffsContext: return "wait for the child's bpffs context";
    case SetupStep::kConfigureDelegatedBpffs: return "configure delegated bpffs";
    case SetupStep::kResetSignals: return "reset signals";
    case SetupStep::kNewSession: return "new session";
    case SetupStep::kNewProcessGroup: return "new process group";
    case SetupStep::kEnterCgroup: return "enter its own cgroup";
    case SetupStep::kDropSupplementaryGroups: return "drop supplementary groups";
    case SetupStep::kBecomeHostUser: return "become the sandbox's host user";
    case SetupStep::kCreateNamespaces: return "create namespaces";
    case SetupStep::kWaitForIdMaps: return "wait for id maps";
    case SetupStep::kEnterMappedIds: return "enter mapped ids";
    case SetupStep::kMakeMountsPrivate: return "make mounts private";
    case SetupStep::kArrangeFilesystemView: return "arrange filesystem view";
    case SetupStep::kOpenBindSources: return "open bind sources";
    case SetupStep::kMountDevpts: return "mount a devpts instance of its own";
    case SetupStep::kMountCgroupView: return "mount its cgroup view";
    case SetupStep::kCreateDelegatedBpffs: return "create delegated bpffs";
    case SetupStep::kMountDelegatedBpffs: return "mount delegated bpffs";
    case SetupStep::kCreateToken: return "create BPF token";
    case SetupStep::kBringUpLoopback: return "bring up loopback";
    case SetupStep::kSetHostname: return "set hostname";
    case SetupStep::kStartForkServer: return "start fork server";
    case SetupStep::kCreateLaunchCgroup: return "create the launch's cgroup";
    case SetupStep::kSendLaunchRequest: return "send launch request";
    case SetupStep::kReceiveLaunchReply: return "receive launch reply";
    case SetupStep::kForkFromForkServer: return "fork from the fork server";
    case SetupStep::kMoveIntoLaunchCgroup: return "move the launch into its cgroup";
    case SetupStep::kSetResourceLimits: return "set resource limits";
    case SetupStep::kJoinSessionKeyring: return "join a new session keyring";
    case SetupStep::kOpenOwnTerminal: return "open a terminal of its own";
    case SetupStep::kCreateMountNamespace: return "create mount namespace";
    case SetupStep::kCreatePidNamespace: return "create pid namespace";
    case SetupStep::kSetParentDeathSignal: return "set parent-death signal";
    case SetupStep::kMountProc: return "mount /proc";
    case SetupStep::kStartProgram: return "start the program";
    case SetupStep::kArrangeFds: return "arrange fds";
    case SetupStep::kTakeControllingTerminal: return "take the terminal as controlling terminal";
    case SetupStep::kChangeDirectory: return "change directory";
    case SetupStep::kDropCapabilities: return "drop capabilities";
    case SetupStep::kCloseFdsNotPassed: return "close fds not passed";
    case SetupStep::kWaitForLaunchCgroup: return "wait to be moved into the launch's cgroup";
    case SetupStep::kInstallSeccompFilter: return "install the seccomp filter";
    case SetupStep::kExec: return "exec";
    case SetupStep::kReceiveOwnTerminal: return "receive the sandbox's terminal";
    case SetupStep::kWaitForStart: return "wait for the program to start";
  }
  return "unknown step";
}

absl::Status SetupFailure(SetupStep step, const absl::Status& status) {
  if (SetupStepOf(status).has_value()) return status;
  absl::Status failure =
      Annotate(status, absl::StrCat("sandbox set-up failed at '", SetupStepName(step), "'"));
  failure.SetPayload(kStepPayload, absl::Cord(absl::StrCat(static_cast<int>(step))));
  return failure;
}

std::optional<SetupStep> SetupStepOf(const absl::Status& status) {
  auto payload = status.GetPayload(kStepPayload);
  int number = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &number) || number < 0 ||
      number > static_cast<int>(SetupStep::kWaitForStart)) {
    return std::nullopt;
  }
  return static_cast<SetupStep>(number);
}

}  // namespace tokenbox
