#include "ns/user_namespace.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/fd_passing.h"
#include "ns/unique_fd.h"

namespace tokenbox {
namespace {

// What the idmapping helper sends.
constexpr uint32_t kIdmappingNamespace = 1;
constexpr uint32_t kIdmappingFailed = 2;

// Writes `text` to `path` in a single write(), as /proc id-map files require.
absl::Status WriteProcFile(const std::string& path, absl::string_view text,
                           absl::string_view remedy) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return ErrnoStatus(errno, absl::StrCat("open(", path, ")"), remedy);
  ssize_t written;
  do {
    written = write(fd.get(), text.data(), text.size());
  } while (written < 0 && errno == EINTR);
  if (written < 0) return ErrnoStatus(errno, absl::StrCat("write(", path, ")"), remedy);
  if (static_cast<size_t>(written) != text.size()) {
    return absl::InternalError(absl::StrCat("write(", path, "): short write of ", written, " of ",
                                            text.size(), " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteIdMaps(pid_t pid, const IdMap& uid_map, const IdMap& gid_map) {
  const std::string proc = absl::StrCat("/proc/", pid, "/");
  constexpr absl::string_view kRemedy =
      "the writer needs CAP_SETUID/CAP_SETGID over the outside ids, and each map can be written "
      "once";
  if (absl::Status s = WriteProcFile(proc + "setgroups", "deny", kRemedy); !s.ok()) return s;
  if (absl::Status s = WriteProcFile(proc + "gid_map", gid_map.ToProcText(), kRemedy); !s.ok()) {
    return s;
  }
  return WriteProcFile(proc + "uid_map", uid_map.ToProcText(), kRemedy);
}

absl::StatusOr<UniqueFd> MakeIdmappingNamespace(const IdMap& uid_map, const IdMap& gid_map) {
  absl::StatusOr<SocketPair> pair = MakeSocketPair();
  if (!pair.ok()) return pair.status();
  const pid_t helper = fork();
  if (helper < 0) return ErrnoStatus(errno, "fork(idmapping helper)");
  if (helper == 0) {
    // Sends its own namespace (opening another process's needs ptrace access, which a launcher
    // that is not dumpable and lacks CAP_SYS_PTRACE does not have to its own forks), then waits
    // until its maps are written: they can only be written while it lives.
    pair->parent.Reset();
    const int sock = pair->child.get();
    // Nothing here allocates: the launcher may have other threads.
    if (unshare(CLONE_NEWUSER) != 0) {
      const int unshare_errno = errno;
      (void)SendFdMessage(sock, kIdmappingFailed,
                          absl::string_view(reinterpret_cast<const char*>(&unshare_errno),
                                            sizeof(unshare_errno)));
      _exit(1);
    }
    const int ns = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
    const int fds[] = {ns};
    (void)SendFdMessage(sock, kIdmappingNamespace, {},
                        absl::MakeConstSpan(fds, ns >= 0 ? 1 : 0));
    char byte;
    (void)!read(sock, &byte, 1);  // End-of-file: the launcher is done.
    _exit(0);
  }
  pair->child.Reset();
  absl::StatusOr<UniqueFd> taken = [&]() -> absl::StatusOr<UniqueFd> {
    absl::StatusOr<FdMessage> sent = ReceiveFdMessage(pair->parent.get());
    if (!sent.ok()) return sent.status();
    int unshare_errno = 0;
    if (sent->type == kIdmappingFailed && sent->payload.size() == sizeof(unshare_errno)) {
      std::memcpy(&unshare_errno, sent->payload.data(), sizeof(unshare_errno));
      return ErrnoStatus(unshare_errno, "unshare(CLONE_NEWUSER) for an idmapping");
    }
    if (sent->type != kIdmappingNamespace || sent->fds.size() != 1) {
      return absl::InternalError("the idmapping helper could not open its user namespace");
    }
    if (absl::Status s = WriteIdMaps(helper, uid_map, gid_map); !s.ok()) return s;
    return std::move(sent->fds[0]);
  }();
  pair->parent.Reset();  // The helper exits.
  while (waitpid(helper, nullptr, 0) < 0 && errno == EINTR) {
  }
  return taken;
}

absl::Status DropSupplementaryGroups() {
  if (setgroups(0, nullptr) != 0) {
    return ErrnoStatus(errno, "setgroups(0)", "dropping supplementary groups needs CAP_SETGID");
  }
  return absl::OkStatus();
}

absl::Status BecomeHostUser(uid_t uid, gid_t gid) {
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
    return ErrnoStatus(errno, "prctl(PR_SET_KEEPCAPS, 1)",
                       "the launcher's securebits may lock SECBIT_KEEP_CAPS; start tokenbox from "
                       "a process whose securebits do not");
  }
  if (setresgid(gid, gid, gid) != 0) {
    return ErrnoStatus(errno, absl::StrCat("setresgid(", gid, ")"), "it needs CAP_SETGID");
  }
  if (setresuid(uid, uid, uid) != 0) {
    return ErrnoStatus(errno, absl::StrCat("setresuid(", uid, ")"), "it needs CAP_SETUID");
  }
  // The change of uid emptied the effective set and kept the permitted one.
  cap_t caps = cap_get_proc();
  if (caps == nullptr) {
    return ErrnoStatus(errno, "cap_get_proc", "the launcher needs CAP_SYS_ADMIN");
  }
  const cap_value_t sys_admin[] = {CAP_SYS_ADMIN};
  const bool raised = cap_clear_flag(caps, CAP_EFFECTIVE) == 0 &&
                      cap_set_flag(caps, CAP_EFFECTIVE, 1, sys_admin, CAP_SET) == 0 &&
                      cap_set_proc(caps) == 0;
  const int raise_errno = errno;
  cap_free(caps);
  if (!raised) {
    return ErrnoStatus(raise_errno, "capset(effective cap_sys_admin)",
                       "the launcher needs CAP_SYS_ADMIN");
  }
  return absl::OkStatus();
}

absl::Status EnterMappedIds(uid_t uid, gid_t gid) {
  // The group first: after setresuid to a non-zero uid, CAP_SETGID would be gone.
  if (setresgid(gid, gid, gid) != 0) {
    return ErrnoStatus(errno, absl::StrCat("setresgid(", gid, ")"),
                       "is the gid mapped in the gid map?");
  }
  if (setresuid(uid, uid, uid) != 0) {
    return ErrnoStatus(errno, absl::StrCat("setresuid(", uid, ")"),
                       "is the uid mapped in the uid map?");
  }
  int groups = getgroups(0, nullptr);
  if (groups < 0) return ErrnoStatus(errno, "getgroups");
  if (groups != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        groups, " supplementary groups remain; call DropSupplementaryGroups() before "
                "unshare(CLONE_NEWUSER)"));
  }
  return absl::OkStatus();
}

}  // namespace tokenbox
