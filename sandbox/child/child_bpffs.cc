#include "sandbox/child/child_bpffs.h"

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/fd_passing.h"
#include "ns/mount_api.h"
#include "sandbox/protocol.h"
#include "sandbox/setup_step.h"

namespace tokenbox {
namespace {

absl::Status Attach(const UniqueFd& mount, const std::string& path, uint32_t host_uid) {
  absl::Status attached = AttachMount(mount.get(), path);
  if (!attached.ok() && ErrnoOf(attached) == ENOENT) {
    return AppendRemedy(attached, absl::StrCat("the bpffs path ", Printable(path, 256),
                                               " must exist (as a directory) inside the sandbox"));
  }
  if (!attached.ok() && (ErrnoOf(attached) == EACCES || ErrnoOf(attached) == EPERM)) {
    return AppendRemedy(attached, absl::StrCat(
        "the sandbox's user (host uid ", host_uid,
        ") must be able to reach the bpffs path, and a security module may refuse mounts in "
        "user namespaces; choose another --bpffs, or --no-bpffs"));
  }
  return attached;
}

}  // namespace

absl::StatusOr<UniqueFd> ReceiveDelegatedBpffs(int sock, absl::Duration timeout,
                                               const std::optional<std::string>& mount_at,
                                               uint32_t host_uid) {
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
  UniqueFd mount = std::move(reply->fds[0]);
  if (mount_at.has_value()) {
    if (absl::Status s = Attach(mount, *mount_at, host_uid); !s.ok()) return s;
  }
  return mount;
}

}  // namespace tokenbox
