#include "sandbox/child/fd_layout.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include <cstdio>
#include <functional>
#include <string>

#include "tests/process_state.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

// Runs `fn` in a forked child that holds nothing but 0-2 (RunInChild's report socket would sit
// among the fds these tests move), and returns whether it succeeded; it says why not on stderr.
bool InBareChild(const std::function<std::string()>& fn) {
  pid_t pid = fork();
  if (pid == 0) {
    for (int fd : testing::OpenFds()) {
      if (fd > 2) close(fd);
    }
    std::string problem = fn();
    if (!problem.empty()) std::fprintf(stderr, "%s\n", problem.c_str());
    _exit(problem.empty() ? 0 : 1);
  }
  int status = 0;
  return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
         WEXITSTATUS(status) == 0;
}

TEST_CASE("The token takes the lowest fd that is neither 0-2 nor a passed fd's target") {
  CHECK(PlanFdLayout({}).token_target == 3);
  CHECK(PlanFdLayout({}).highest_target == 2);
  CHECK(PlanFdLayout({3}).token_target == 4);
  CHECK(PlanFdLayout({3, 4, 6}).token_target == 5);
  CHECK(PlanFdLayout({4, 3}).token_target == 5);
  CHECK(PlanFdLayout({1, 9}).token_target == 3);
  CHECK(PlanFdLayout({1, 9}).highest_target == 9);
  CHECK(PlanFdLayout({9, 1}).passed_targets == std::vector<int>{9, 1});
}

// Sources that sit on each other's targets must not clobber one another.
TEST_CASE("Applying a plan puts every fd at its target and marks everything else close-on-exec") {
  CHECK(InBareChild([]() -> std::string {
    // fd 5 will be passed at 6, and fd 6 at 5: a naive dup2 would lose one.
    int five = open("/dev/null", O_RDONLY), six = open("/dev/zero", O_RDONLY);
    if (dup2(five, 5) < 0 || dup2(six, 6) < 0) return "dup2";
    UniqueFd token(open("/dev/full", O_RDONLY));
    FdLayout plan = PlanFdLayout({6, 5});
    if (absl::Status s = ApplyFdLayout(plan, token, {5, 6}); !s.ok()) return s.ToString();
    if (token.get() != 3) return "the token is not at 3";
    char null_path[64] = {}, zero_path[64] = {};
    if (readlink("/proc/self/fd/6", null_path, sizeof(null_path) - 1) < 0 ||
        readlink("/proc/self/fd/5", zero_path, sizeof(zero_path) - 1) < 0) {
      return "readlink";
    }
    if (std::string(null_path) != "/dev/null" || std::string(zero_path) != "/dev/zero") {
      return std::string("swapped: 6 is ") + null_path + ", 5 is " + zero_path;
    }
    for (int fd : testing::OpenFds()) {
      const bool kept = fd <= 3 || fd == 5 || fd == 6;
      const bool cloexec = (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
      if (fd > 2 && kept == cloexec) {
        return "fd " + std::to_string(fd) + " has the wrong close-on-exec flag";
      }
    }
    return "";
  }));
}

TEST_CASE("CloseFdsExcept closes every fd above 2 but the kept ones") {
  CHECK(InBareChild([]() -> std::string {
    int a = open("/dev/null", O_RDONLY), b = open("/dev/null", O_RDONLY),
        c = open("/dev/null", O_RDONLY);
    if (absl::Status s = CloseFdsExcept({c, a}); !s.ok()) return s.ToString();
    if (fcntl(b, F_GETFD) != -1) return "fd " + std::to_string(b) + " is still open";
    if (testing::OpenFds() != std::vector<int>{0, 1, 2, a, c}) return "unexpected fds left open";
    return "";
  }));
}

}  // namespace
}  // namespace tokenbox
