#include "sandbox/host_resources/launcher_watcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// Runs a launcher (a forked child) that starts a watcher whose callback writes `path` through
// the fd it kept, then either dismisses it or dies by SIGKILL.
void RunLauncher(const std::string& path, bool dismiss) {
  pid_t launcher = fork();
  REQUIRE(launcher >= 0);
  if (launcher == 0) {
    int dir = open("/tmp", O_DIRECTORY | O_CLOEXEC);
    const std::string name = path.substr(5);  // Below /tmp/.
    auto watcher = LauncherWatcher::Start({dir}, [name] {
      // The kept fd is at 1 in the watcher.
      int file = openat(1, name.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
      if (file >= 0) close(file);
    });
    if (!watcher.ok()) _exit(2);
    if (dismiss) {
      watcher->reset();
      _exit(0);
    }
    raise(SIGKILL);
  }
  int status = 0;
  REQUIRE(waitpid(launcher, &status, 0) == launcher);
  CHECK((dismiss ? WIFEXITED(status) && WEXITSTATUS(status) == 0 : WIFSIGNALED(status)));
}

TEST_CASE("The watcher cleans up after a launcher that dies, and not after one that dismissed it") {
  const std::string killed = absl::StrCat("/tmp/tokenbox-watcher-killed-", getpid());
  const std::string dismissed = absl::StrCat("/tmp/tokenbox-watcher-dismissed-", getpid());
  RunLauncher(killed, /*dismiss=*/false);
  RunLauncher(dismissed, /*dismiss=*/true);
  bool cleaned = false;
  for (absl::Time give_up = absl::Now() + absl::Seconds(5); !cleaned && absl::Now() < give_up;
       absl::SleepFor(absl::Milliseconds(10))) {
    cleaned = Exists(killed);
  }
  CHECK(cleaned);
  CHECK_FALSE(Exists(dismissed));  // Its watcher was reaped before the launcher exited.
  unlink(killed.c_str());
  unlink(dismissed.c_str());
}

}  // namespace
}  // namespace tokenbox
