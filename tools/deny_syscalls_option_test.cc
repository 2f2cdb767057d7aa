#include "tools/deny_syscalls_option.h"

#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "tests/test_support.h"

namespace tokenbox {
namespace {

// Installs `filter` in a forked child and returns what uname() and getpid() did there:
// 0 for success, else the errno (as the child's exit code).
int UnameErrnoUnder(const std::vector<sock_filter>& filter) {
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    sock_fprog program = {static_cast<unsigned short>(filter.size()),
                          const_cast<sock_filter*>(filter.data())};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
      _exit(255);
    }
    if (syscall(SYS_getpid) <= 0) _exit(254);  // Not denied: the rest runs.
    utsname name;
    _exit(uname(&name) == 0 ? 0 : errno);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

TEST_CASE("--deny-syscalls builds a filter in which the named calls fail with their errno") {
  const struct {
    const char* list;
    int uname_errno;  // 0: uname() works.
  } kFilters[] = {
      {"uname:ENOSYS,ptrace", ENOSYS},
      {"uname:131", 131},
      {"uname", EPERM},  // The errno when none is named.
      {"ptrace", 0},
  };
  for (const auto& filter : kFilters) {
    const std::string list = filter.list;
    CAPTURE(list);
    auto built = DenySyscallsFilter(list);
    TB_REQUIRE_OK(built);
    CHECK(UnameErrnoUnder(*built) == filter.uname_errno);
  }
}

TEST_CASE("A malformed --deny-syscalls is one line that says what is wrong") {
  const struct {
    const char* list;
    const char* says;
  } kBad[] = {
      {"", "names no system call"},
      {"unamee", "no system call is called 'unamee'"},
      {"uname,", "no system call is called ''"},
      {"uname:EWHAT", "'EWHAT' is not an errno"},
      {"uname:0", "'0' is not an errno"},
      {"uname:5000", "'5000' is not an errno"},
  };
  for (const auto& bad : kBad) {
    const std::string list = bad.list;
    CAPTURE(list);
    auto filter = DenySyscallsFilter(bad.list);
    REQUIRE_FALSE(filter.ok());
    const std::string message(filter.status().message());
    CHECK(message.find(bad.says) != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
}

}  // namespace
}  // namespace tokenbox
