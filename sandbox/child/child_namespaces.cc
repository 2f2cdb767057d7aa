#include "sandbox/child/child_namespaces.h"

#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/fd_passing.h"
#include "ns/mount_namespace.h"
#include "ns/unique_fd.h"
#include "ns/user_namespace.h"
#include "sandbox/host_resources/host_id_lease.h"
#include "sandbox/protocol.h"

namespace tokenbox {
namespace {

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

// Unshares, and tells the launcher, which then writes the id maps.
absl::Status UnshareAndTell(int sock, int other_flags) {
  const int flags = CLONE_NEWUSER | CLONE_NEWNS | other_flags;
  if (unshare(flags) != 0) {
    return ErrnoStatus(errno, absl::StrCat("unshare(0x", absl::Hex(flags), ")"),
                       "user namespaces may be disabled (see tokenbox probe)");
  }
  return SendFdMessage(sock, kChildUnshared);
}

}  // namespace

int OtherNamespaceFlags(const NewNamespaces& ns) {
  return (ns.net ? CLONE_NEWNET : 0) | (ns.ipc ? CLONE_NEWIPC : 0) | (ns.uts ? CLONE_NEWUTS : 0) |
         (ns.cgroup ? CLONE_NEWCGROUP : 0);
}

void EnterSandboxNamespaces(SetupReporter& reporter, uid_t uid, gid_t gid, int other_flags,
                            absl::Duration timeout) {
  reporter.Step(SetupStep::kDropSupplementaryGroups, DropSupplementaryGroups());
  reporter.Step(SetupStep::kBecomeHostUser, BecomeSandboxUser(uid, gid));
  reporter.Step(SetupStep::kCreateNamespaces, UnshareAndTell(reporter.sock(), other_flags));
  reporter.Step(SetupStep::kWaitForIdMaps,
                ReceiveExpected(reporter.sock(), kIdMapsWritten, 0, timeout).status());
  reporter.Step(SetupStep::kEnterMappedIds, EnterMappedIds(0, 0));
  reporter.Step(SetupStep::kMakeMountsPrivate, MakeMountsPrivate());
}

absl::Status BringUpLoopback() {
  UniqueFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return ErrnoStatus(errno, "socket(AF_INET)");
  ifreq request = {};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(sock.get(), SIOCGIFFLAGS, &request) != 0) return ErrnoStatus(errno, "SIOCGIFFLAGS(lo)");
  request.ifr_flags |= IFF_UP | IFF_RUNNING;
  return ErrnoUnless(ioctl(sock.get(), SIOCSIFFLAGS, &request) == 0, "SIOCSIFFLAGS(lo, up)");
}

absl::Status SetSandboxHostname() {
  return ErrnoUnless(sethostname("tokenbox", 8) == 0, "sethostname");
}

}  // namespace tokenbox
