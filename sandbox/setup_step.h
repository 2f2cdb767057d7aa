#ifndef TOKENBOX_SANDBOX_SETUP_STEP_H_
#define TOKENBOX_SANDBOX_SETUP_STEP_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tokenbox {

// Every step of setting a sandbox up, on the launcher's side and in the child, roughly in the
// order they run. A failed launch names its step in its message and carries it for
// SetupStepOf(), so a caller can branch on where it failed without parsing text.
enum class SetupStep {
  // The launcher.
  kCheckPrivileges,
  // A launcher that is not root, and tokenboxd on its behalf.
  kAskService,
  kServiceGrant,
  kLeaseHostIds,
  kCreateCgroup,
  kCreateHandshakeSocket,
  kFork,
  kOpenPidfd,
  kWaitForChild,
  kWriteIdMaps,
  kWaitForBpffsContext,
  kConfigureDelegatedBpffs,
  // The child, until its sandbox exists.
  kResetSignals,
  kNewSession,
  kNewProcessGroup,
  kEnterCgroup,
  kOpenBindSources,
  kDropSupplementaryGroups,
  kBecomeHostUser,
  kCreateNamespaces,
  kWaitForIdMaps,
  kEnterMappedIds,
  kMakeMountsPrivate,
  kArrangeFilesystemView,
  kMountDevpts,
  kMountCgroupView,
  kCreateDelegatedBpffs,  // With no bpffs path: the bpffs is made but mounted nowhere.
  kMountDelegatedBpffs,
  kCreateToken,
  kBringUpLoopback,
  kSetHostname,
  kStartForkServer,
  // A fork server's launch, on the launcher's side.
  kCreateLaunchCgroup,
  kSendLaunchRequest,
  kReceiveLaunchReply,
  kForkFromForkServer,
  kMoveIntoLaunchCgroup,
  // The child, running one command in the sandbox.
  kSetResourceLimits,
  kJoinSessionKeyring,
  kOpenOwnTerminal,
  kCreateMountNamespace,
  kCreatePidNamespace,
  kSetParentDeathSignal,
  kMountProc,
  kStartProgram,
  kArrangeFds,
  kTakeControllingTerminal,
  kChangeDirectory,
  kDropCapabilities,
  kCloseFdsNotPassed,
  kWaitForLaunchCgroup,
  kInstallSeccompFilter,
  kExec,
  // The launcher, once more.
  kReceiveOwnTerminal,
  kWaitForStart,
};

// "check privileges", "create BPF token", "exec", ...: how messages and --verbose name a step.
absl::string_view SetupStepName(SetupStep step);

// The launcher's error for a failed step: "sandbox set-up failed at '<step>': <message>", with
// the code and errno of `status` kept, and the step recorded for SetupStepOf(). A status that
// already is a set-up failure is returned as it is: the step that first failed is the one named.
absl::Status SetupFailure(SetupStep step, const absl::Status& status);

// The step recorded by SetupFailure(), or nullopt for an error that is not a set-up failure.
std::optional<SetupStep> SetupStepOf(const absl::Status& status);

}  // namespace tokenbox

#endif  // TOKENBOX_SANDBOX_SETUP_STEP_H_
