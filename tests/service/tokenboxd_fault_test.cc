// tokenboxd with one syscall of its request path failing, under `strace -f --inject`: the
// caller gets one line naming the step and the errno, and exits 125; the daemon goes on
// serving; nothing is left (no cgroup, lease or process of the request's).
//
// strace counts each thread's calls on its own, and tokenboxd serves each connection on a
// thread of its own: a fault `when=1` of a call the listener makes hits the first connection
// only, and one of a call the serving thread makes hits every connection. The fork thread, made
// once, counts across connections. Each row says what its first and its second request get.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/command_runner.h"
#include "tests/process_state.h"
#include "tests/service/daemon_harness.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::CommandResult;
using ::tokenbox::testing::Contains;
using ::tokenbox::testing::RunAs;
using ::tokenbox::testing::StagedFiles;
using ::tokenbox::testing::TestDaemon;
using ::tokenbox::testing::TestUser;

constexpr char kUser[] = "tbx-fault";

struct DaemonFault {
  std::string inject;  // SYSCALL:error=ERRNO:when=N, as strace's --inject takes it.
  // What the caller's one line holds for its first request and for its second; empty: that
  // request is served (the fault hit a call the daemon retries, or another thread's).
  std::string first, second;
  bool caller_sees_errno = true;  // Else the daemon's log names it.
};

const std::vector<DaemonFault>& Faults() {
  static const auto* faults = new std::vector<DaemonFault>{
      // The listener: it retries accept, and refuses a caller it cannot name or serve, then
      // serves the next.
      {"accept4:error=EMFILE:when=1", "", ""},
      {"getsockopt:error=ENOBUFS:when=1",
       "'ask tokenboxd': getsockopt(SO_PEERCRED): ENOBUFS", "'ask tokenboxd'"},
      {"clone3:error=EAGAIN:when=1", "'ask tokenboxd': pthread_create: EAGAIN",
       "'fork': pthread_create: EAGAIN"},
      // The serving thread, in the order it reads the request and launches.
      {"recvmsg:error=EIO:when=1", "'ask tokenboxd': recvmsg", "'ask tokenboxd': recvmsg"},
      {"socketpair:error=ENFILE:when=1", "'create handshake socket'", "'create handshake socket'"},
      // The serving thread's first pidfd is the child's (every request); the fork thread's
      // first, its own (at its first fork): whichever a request reaches first.
      {"pidfd_open:error=EMFILE:when=1", "pidfd_open", "pidfd_open"},
      {"getsockopt:error=ENOBUFS:when=2", "", "'ask tokenboxd': getsockopt(SO_PEERCRED): ENOBUFS"},
      {"mkdirat:error=EACCES:when=1", "'create the sandbox's cgroup': mkdir(",
       "'create the sandbox's cgroup': mkdir("},
      {"fstatfs:error=EIO:when=1", "'tokenboxd's grant': passed fd 1 cannot be examined",
       "'tokenboxd's grant': passed fd 1 cannot be examined"},
      // What the daemon could not send, the caller cannot be told: its log says it.
      {"sendmsg:error=ENOBUFS:when=1", "'ask tokenboxd': tokenboxd closed the connection",
       "'ask tokenboxd': tokenboxd closed the connection", /*caller_sees_errno=*/false},
      // The child's, which the daemon relays: its first open (the serving thread's first, of
      // the user database, has a fallback: the user's number), its first mount.
      {"openat:error=EMFILE:when=1", "'enter its own cgroup': open(cgroup.procs)",
       "'enter its own cgroup': open(cgroup.procs)"},
      {"fsconfig:error=ENOMEM:when=1", "'arrange filesystem view': fsconfig(",
       "'arrange filesystem view': fsconfig("},
      // The fork thread forks the sandbox's child for each connection: its first fork only.
      {"clone:error=EAGAIN:when=1", "'fork': ", ""},
  };
  return *faults;
}

// The user's tokenbox run of /bin/true, through the daemon.
CommandResult Request(const TestUser& user, const TestDaemon& daemon, const StagedFiles& staged) {
  return RunAs(user, daemon,
               {staged.path("tokenbox"), "run", "--delegate-cmds=map_create",
                "--delegate-maps=array", "--", "/bin/true"});
}

// The errno a fault injects ("EMFILE" of "pidfd_open:error=EMFILE:when=1").
std::string InjectedErrno(const std::string& inject) {
  const size_t at = inject.find(":error=") + 7;
  return inject.substr(at, inject.find(':', at) - at);
}

void CheckServedOrRefused(const CommandResult& r, const DaemonFault& fault,
                          const std::string& expected, const TestDaemon& daemon) {
  INFO(r.err);
  if (expected.empty()) {
    CHECK(r.exit_code == 0);
    return;
  }
  CHECK(r.exit_code == 125);
  CHECK(testing::CountLines(r.err) == 1);
  CHECK(Contains(r.err, "tokenbox run: sandbox set-up failed at "));
  CHECK(Contains(r.err, expected));
  CHECK(Contains(fault.caller_sees_errno ? r.err : daemon.log(), InjectedErrno(fault.inject)));
}

TEST_CASE("A failing syscall of tokenboxd's request path refuses that request, and no other") {
  TB_REQUIRE_PRIVILEGE();
  TestUser user(kUser);
  REQUIRE(user.created());
  StagedFiles staged({"tools/tokenbox"});
  for (const DaemonFault& fault : Faults()) {
    INFO(fault.inject);
    std::vector<std::string> strace = {"/usr/bin/strace", "-f", "-qq", "-o", "/dev/null",
                                       "--inject=" + fault.inject};
    TestDaemon daemon(absl::StrCat(kUser, " cmds=map_create maps=array\n"), {}, strace);
    REQUIRE_MESSAGE(daemon.running(), daemon.log());
    const pid_t served_by = daemon.pid();
    CheckServedOrRefused(Request(user, daemon, staged), fault, fault.first, daemon);
    CheckServedOrRefused(Request(user, daemon, staged), fault, fault.second, daemon);
    // Still there, still answering, and nothing of either request's is left.
    CHECK(daemon.alive());
    CHECK(daemon.pid() == served_by);
    CHECK(testing::CgroupsMadeBy(served_by).empty());
    CHECK(testing::LeasesHeldBy(served_by).empty());
    CHECK(testing::ReadProcFile(absl::StrCat("/proc/", served_by, "/task/", served_by,
                                             "/children")) == "");
  }
}

}  // namespace
}  // namespace tokenbox
