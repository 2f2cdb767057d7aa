#include "sandbox/service/caller_checks.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ns/errno_status.h"
#include "sandbox/service/grant_policy.h"

namespace tokenbox {
namespace {

// Filesystems whose files hand a sandbox more than the caller's own access to them would: a
// namespace (sk_lookup links to any network namespace it can name), a cgroup (cgroup programs
// attach to any it can open), pinned BPF objects, the host's terminals, the kernel's tracing and
// configuration. A bind source or a passed fd on one is refused.
struct KernelFilesystem {
  long magic;
  const char* name;
};
constexpr KernelFilesystem kKernelFilesystems[] = {
    {NSFS_MAGIC, "nsfs"},         {PROC_SUPER_MAGIC, "proc"},     {CGROUP_SUPER_MAGIC, "cgroup"},
    {CGROUP2_SUPER_MAGIC, "cgroup2"}, {BPF_FS_MAGIC, "bpf"},      {SYSFS_MAGIC, "sysfs"},
    {TRACEFS_MAGIC, "tracefs"},   {DEBUGFS_MAGIC, "debugfs"},     {SECURITYFS_MAGIC, "securityfs"},
};

// Why `fd` may not be handed to a sandbox, as `what`; empty when it may. `devpts_ok`: a
// terminal of the caller's, as stdio, may be.
std::string WhyNotHandOver(int fd, absl::string_view what, bool directory_ok, bool devpts_ok) {
  struct stat st;
  struct statfs fs;
  if (fstat(fd, &st) != 0 || fstatfs(fd, &fs) != 0) {
    return absl::StrCat(what, " cannot be examined (", ErrnoName(errno), ")");
  }
  for (const KernelFilesystem& kernel : kKernelFilesystems) {
    if (fs.f_type == kernel.magic) {
      return absl::StrCat(what, " is on ", kernel.name,
                          ", whose files would give the sandbox more than your access to them");
    }
  }
  if (!devpts_ok && fs.f_type == DEVPTS_SUPER_MAGIC) {
    return absl::StrCat(what, " is a terminal of the host's devpts");
  }
  if (S_ISDIR(st.st_mode) && !directory_ok) {
    return absl::StrCat(what, " is a directory, from which a path reaches the whole host: bind "
                              "it instead (--bind, --ro-bind)");
  }
  if (directory_ok && !S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
    return absl::StrCat(what, " is neither a directory nor a regular file");
  }
  return "";
}

}  // namespace

absl::StatusOr<Peer> PeerOf(int connection) {
  ucred cred = {};
  socklen_t length = sizeof(cred);
  if (getsockopt(connection, SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0) {
    return ErrnoStatus(errno, "getsockopt(SO_PEERCRED)");
  }
  Peer peer;
  peer.pid = cred.pid;
  peer.uid = cred.uid;
  peer.gid = cred.gid;
  int pidfd = -1;
  length = sizeof(pidfd);
  if (getsockopt(connection, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &length) == 0 && pidfd >= 0) {
    peer.pidfd = UniqueFd(pidfd);
  } else {
    peer.pidfd = UniqueFd(static_cast<int>(syscall(SYS_pidfd_open, cred.pid, 0)));
  }
  if (!peer.pidfd) return ErrnoStatus(errno, "pidfd of the caller");
  peer.user = UserName(cred.uid);
  return peer;
}

absl::StatusOr<std::vector<ResourceLimit>> CallerLimits(const Peer& peer) {
  const std::string path = absl::StrCat("/proc/", peer.pid, "/limits");
  std::string text;
  if (UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC)); fd) {
    char buffer[4096];
    for (ssize_t n; (n = read(fd.get(), buffer, sizeof(buffer))) > 0;) text.append(buffer, n);
  }
  if (syscall(SYS_pidfd_send_signal, peer.pidfd.get(), 0, nullptr, 0) != 0) {
    return absl::FailedPreconditionError("the caller exited while its request was read");
  }
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  if (lines.size() != RLIM_NLIMITS + 1) {
    return absl::InternalError(absl::StrCat(path, " does not list ", RLIM_NLIMITS, " limits"));
  }
  auto value = [](absl::string_view field) -> std::optional<rlim_t> {
    field = absl::StripAsciiWhitespace(field);
    if (field == "unlimited") return RLIM_INFINITY;
    rlim_t number = 0;
    if (!absl::SimpleAtoi(field, &number)) return std::nullopt;
    return number;
  };
  std::vector<ResourceLimit> limits;
  for (int resource = 0; resource < RLIM_NLIMITS; ++resource) {
    const absl::string_view line = lines[static_cast<size_t>(resource) + 1];
    std::optional<rlim_t> soft = line.size() > 46 ? value(line.substr(26, 21)) : std::nullopt;
    std::optional<rlim_t> hard = line.size() > 67 ? value(line.substr(47, 21)) : std::nullopt;
    if (!soft.has_value() || !hard.has_value()) {
      return absl::InternalError(absl::StrCat(path, ": cannot read '", Printable(line), "'"));
    }
    limits.push_back({resource, *soft, *hard});
  }
  return limits;
}

absl::Status CheckWhatNoGrantGives(const Sandbox& sandbox, const Peer& peer) {
  auto own_or_leased = [](const std::optional<IdMap>& map, uint32_t own) {
    return !map.has_value() || (map->ranges().size() == 1 && map->ranges()[0].inside == 0 &&
                                map->ranges()[0].outside == own && map->ranges()[0].count == 1);
  };
  if (!own_or_leased(sandbox.uid_map(), peer.uid) || !own_or_leased(sandbox.gid_map(), peer.gid)) {
    return absl::PermissionDeniedError(
        "a sandbox tokenboxd starts is a host uid leased for it, or yours (--uid=self, "
        "--gid=self): no other ids are mapped for a caller who is not root");
  }
  if (sandbox.shares_session()) {
    return absl::PermissionDeniedError(
        "a sandbox tokenboxd starts has no session of yours to share: drop --share-session");
  }
  if (sandbox.shares_session_keyring()) {
    return absl::PermissionDeniedError(
        "tokenboxd's session keyring is root's: drop --share-keyring");
  }
  return absl::OkStatus();
}

absl::Status CheckFds(const ReceivedRequest& received, size_t first_bind_source) {
  const ServiceRequest& request = received.request;
  for (size_t i = 0; i < received.fds.size(); ++i) {
    const bool bind_source = i >= first_bind_source && i < first_bind_source + request.bind_sources;
    if (i < first_bind_source) continue;  // A launch's own socket, checked where it is used.
    const std::string why =
        bind_source
            ? WhyNotHandOver(received.fds[i].get(),
                             absl::StrCat("bind source ", i - first_bind_source + 1),
                             /*directory_ok=*/true, /*devpts_ok=*/false)
            : WhyNotHandOver(received.fds[i].get(),
                             absl::StrCat("passed fd ", i - first_bind_source - request.bind_sources + 1),
                             /*directory_ok=*/false, /*devpts_ok=*/true);
    if (!why.empty()) return absl::PermissionDeniedError(why);
  }
  return absl::OkStatus();
}

}  // namespace tokenbox
