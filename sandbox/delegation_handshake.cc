#include "sandbox/delegation_handshake.h"

#include <sched.h>
#include <signal.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/fd_passing.h"
#include "ns/mount_api.h"
#include "ns/mount_namespace.h"
#include "ns/run_in_child.h"
#include "ns/user_namespace.h"
#include "sandbox/host_id_lease.h"
#include "sandbox/protocol.h"
#include "token/bpffs_config.h"

namespace tokenbox {
namespace {

// Runs one step: a failure comes back named, a success is told to the observer.
absl::Status Step(SetupStep step, const absl::Status& status, const StepObserver& observer) {
  if (!status.ok()) return SetupFailure(step, status);
  if (observer) observer(step);
  return absl::OkStatus();
}

absl::Status Unshare(int sock, int extra_clone_flags) {
  const int flags = CLONE_NEWUSER | CLONE_NEWNS | extra_clone_flags;
  if (unshare(flags) != 0) {
    return ErrnoStatus(errno, absl::StrCat("unshare(0x", absl::Hex(flags), ")"),
                       "user namespaces may be disabled (see tokenbox probe)");
  }
  return SendFdMessage(sock, kChildUnshared);
}

absl::Status BecomeSandboxUser(uid_t uid, gid_t gid) {
  if (absl::Status s = BecomeHostUser(uid, gid); !s.ok()) return s;
  // A leased uid is this sandbox's alone, but a sandbox that had it before and had no pid
  // namespace may have left processes behind if its launcher was SIGKILLed: end them, so that
  // they can neither signal nor trace this one. (The kill needs CAP_KILL, not held, for any
  // other process.)
  if (IsLeasedHostId(uid) && kill(-1, SIGKILL) != 0 && errno != ESRCH) {
    return ErrnoStatus(errno, absl::StrCat("kill(-1, SIGKILL) as uid ", uid),
                       "processes a previous sandbox left with this uid could not be ended (a "
                       "security module may refuse the signal); launch again for another uid");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status EnterDelegatedNamespaces(int sock, uid_t uid, gid_t gid, int extra_clone_flags,
                                      absl::Duration timeout, const StepObserver& observer) {
  if (absl::Status s = Step(SetupStep::kDropSupplementaryGroups, DropSupplementaryGroups(), observer);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = Step(SetupStep::kBecomeHostUser, BecomeSandboxUser(uid, gid), observer);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = Step(SetupStep::kCreateNamespaces, Unshare(sock, extra_clone_flags), observer);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = Step(SetupStep::kWaitForIdMaps,
                            ReceiveExpected(sock, kIdMapsWritten, 0, timeout).status(), observer);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = Step(SetupStep::kEnterMappedIds, EnterMappedIds(0, 0), observer); !s.ok()) {
    return s;
  }
  return Step(SetupStep::kMakeMountsPrivate, MakeMountsPrivate(), observer);
}

absl::StatusOr<UniqueFd> ReceiveDelegatedBpffs(int sock, absl::Duration timeout) {
  absl::StatusOr<UniqueFd> context = FsOpen("bpf");
  if (!context.ok()) return context.status();
  int fds[] = {context->get()};
  if (absl::Status s = SendFdMessage(sock, kBpffsContext, "", fds); !s.ok()) return s;
  context->Reset();
  absl::StatusOr<FdMessage> reply = ReceiveExpected(sock, kBpffsMount, 1, timeout);
  if (!reply.ok()) {
    if (SetupStepOf(reply.status()).has_value()) return reply.status();
    return Annotate(reply.status(), "waiting for the delegated bpffs");
  }
  return std::move(reply->fds[0]);
}

absl::Status DelegateToChild(int sock, pid_t pid, const IdMap& uid_map, const IdMap& gid_map,
                             const DelegationPolicy& policy, absl::Duration timeout,
                             const StepObserver& observer) {
  if (absl::Status s = Step(SetupStep::kWaitForChild,
                            ReceiveExpected(sock, kChildUnshared, 0, timeout).status(), observer);
      !s.ok()) {
    return s;
  }
  absl::Status mapped = WriteIdMaps(pid, uid_map, gid_map);
  if (mapped.ok()) mapped = SendFdMessage(sock, kIdMapsWritten);
  if (absl::Status s = Step(SetupStep::kWriteIdMaps, mapped, observer); !s.ok()) return s;
  absl::StatusOr<FdMessage> request = ReceiveExpected(sock, kBpffsContext, 1, timeout);
  if (!request.ok()) return SetupFailure(SetupStep::kWaitForBpffsContext, request.status());
  absl::StatusOr<UniqueFd> mount = ConfigureDelegatedBpffs(request->fds[0].get(), policy);
  if (!mount.ok()) {
    absl::Status failure = SetupFailure(SetupStep::kConfigureDelegatedBpffs, mount.status());
    // Tell the child, so that it stops waiting.
    (void)SendFdMessage(sock, kSetupFailed, EncodeSetupFailure(failure));
    return failure;
  }
  int fds[] = {mount->get()};
  return Step(SetupStep::kConfigureDelegatedBpffs, SendFdMessage(sock, kBpffsMount, "", fds),
              observer);
}

absl::Status RunWithDelegatedBpffs(const DelegationPolicy& policy,
                                   const std::function<absl::Status(int bpffs_fd)>& fn,
                                   absl::Duration timeout) {
  constexpr uint32_t kNobody = 65534;
  absl::StatusOr<IdMap> nobody = IdMap::Single(0, kNobody);
  if (!nobody.ok()) return nobody.status();
  return RunInChild(
      [&](int sock) -> absl::Status {
        if (absl::Status s = EnterDelegatedNamespaces(sock, kNobody, kNobody, 0, timeout);
            !s.ok()) {
          return s;
        }
        absl::StatusOr<UniqueFd> bpffs = ReceiveDelegatedBpffs(sock, timeout);
        if (!bpffs.ok()) return bpffs.status();
        return fn(bpffs->get());
      },
      [&](pid_t pid, int sock) {
        return DelegateToChild(sock, pid, *nobody, *nobody, policy, timeout);
      });
}

}  // namespace tokenbox
