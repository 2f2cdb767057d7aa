#include "ns/user_namespace.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/unique_fd.h"

namespace tokenbox {
namespace {

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
