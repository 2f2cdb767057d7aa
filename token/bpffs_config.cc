#include "token/bpffs_config.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/fd_passing.h"
#include "ns/mount_api.h"

namespace tokenbox {
namespace {

// Message types of the bpffs exchange.
enum : uint32_t {
  kBpffsContext = kBpffsContextMessage,  // child -> parent, 1 fd: the fsopen("bpf") context
  kBpffsMount = 0x101,    // parent -> child, 1 fd: the configured detached mount
  kBpffsRefused = 0x102,  // parent -> child, 0 fds: why it could not configure, as a status
};

// Sets one delegate_* option: the names in one call, unnamed bits as a number in another.
absl::Status SetDelegateOption(int fs_fd, DelegateKind kind, const DelegateMask& mask) {
  if (mask.empty()) return absl::OkStatus();
  if (mask.any || mask.bits == ~uint64_t{0}) {
    return FsConfigSetString(fs_fd, OptionName(kind), "any");
  }
  std::string names;
  uint64_t unnamed = 0;
  for (int value = 0; value < 64; ++value) {
    if (!mask.Allows(value)) continue;
    if (const char* name = CanonicalName(kind, value)) {
      absl::StrAppend(&names, names.empty() ? "" : ":", name);
    } else {
      unnamed |= uint64_t{1} << value;
    }
  }
  if (!names.empty()) {
    if (absl::Status s = FsConfigSetString(fs_fd, OptionName(kind), names); !s.ok()) return s;
  }
  if (unnamed != 0) {
    return FsConfigSetString(fs_fd, OptionName(kind), absl::StrCat("0x", absl::Hex(unnamed)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<UniqueFd> ConfigureDelegatedBpffs(int fs_fd, const DelegationPolicy& policy) {
  for (DelegateKind kind : kAllDelegateKinds) {
    absl::Status status = SetDelegateOption(fs_fd, kind, policy[kind]);
    if (status.ok()) continue;
    if (ErrnoOf(status) == EPERM) {
      return AppendRemedy(status, "setting a delegate option needs CAP_SYS_ADMIN in the initial "
                                  "user namespace (run tokenbox as root)");
    }
    if (ErrnoOf(status) == EINVAL) {
      return AppendRemedy(status, "the kernel does not accept this delegate option: BPF tokens "
                                  "need Linux >= 6.9, and names need its BTF (see tokenbox probe)");
    }
    return status;
  }
  if (absl::Status status = FsConfigCreate(fs_fd); !status.ok()) return status;
  return FsMount(fs_fd);
}

absl::StatusOr<UniqueFd> RequestDelegatedBpffs(int sock, absl::Duration timeout) {
  absl::StatusOr<UniqueFd> context = FsOpen("bpf");
  if (!context.ok()) return context.status();
  int fds[] = {context->get()};
  if (absl::Status s = SendFdMessage(sock, kBpffsContext, "", fds); !s.ok()) return s;
  context->Reset();
  absl::StatusOr<FdMessage> reply = ReceiveFdMessage(sock, timeout);
  if (!reply.ok()) return Annotate(reply.status(), "waiting for the delegated bpffs");
  if (reply->type == kBpffsRefused && reply->fds.empty()) {
    return DeserializeStatus(reply->payload);
  }
  if (reply->type != kBpffsMount || reply->fds.size() != 1) {
    return absl::DataLossError(absl::StrCat("waiting for the delegated bpffs: unexpected message "
                                            "type ", reply->type, " with ",
                                            reply->fds.size(), " fds"));
  }
  return std::move(reply->fds[0]);
}

absl::Status AnswerBpffsRequest(int sock, int context_fd, const DelegationPolicy& policy) {
  absl::StatusOr<UniqueFd> mount = ConfigureDelegatedBpffs(context_fd, policy);
  if (!mount.ok()) {
    // Tell the child, so it stops waiting; the caller reports the error itself.
    (void)SendFdMessage(sock, kBpffsRefused, SerializeStatus(mount.status()));
    return mount.status();
  }
  int fds[] = {mount->get()};
  return SendFdMessage(sock, kBpffsMount, "", fds);
}

absl::Status ServeDelegatedBpffs(int sock, const DelegationPolicy& policy,
                                 absl::Duration timeout) {
  absl::StatusOr<FdMessage> request = ReceiveExpectedMessage(sock, kBpffsContext, 1, timeout);
  if (!request.ok()) return Annotate(request.status(), "waiting for the child's bpffs context");
  return AnswerBpffsRequest(sock, request->fds[0].get(), policy);
}

}  // namespace tokenbox
