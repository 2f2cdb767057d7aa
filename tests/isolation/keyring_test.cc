// The session keyring. Credentials are per thread, and Launch() forks from a thread of its own
// that inherits them when it is created: so this binary gives its main thread a session keyring
// holding a secret before its first launch, as a root login session has one.
#include <linux/keyctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/fork_server.h"
#include "sandbox/launcher.h"
#include "tests/captured_run.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::Built;
using ::tokenbox::testing::RunCaptured;

constexpr char kSecret[] = "tokenbox-test-secret";
constexpr char kPlanted[] = "tokenbox-test-planted";

long SessionKeyringId() {
  return syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
}

bool SessionKeyringHas(const char* description) {
  return syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING, "user", description, 0) >= 0;
}

// The launcher's session keyring, made before the first launch of this binary.
long LauncherKeyring() {
  static const long keyring = [] {
    long id = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, nullptr);
    REQUIRE(id >= 0);
    REQUIRE(syscall(SYS_add_key, "user", kSecret, "root's", 6, KEY_SPEC_SESSION_KEYRING) > 0);
    return id;
  }();
  return keyring;
}

// An inherited session keyring is the program's to read (it possesses it) and to link keys into.
TEST_CASE("The program can neither read the launcher's session keyring nor add to it") {
  TB_REQUIRE_PRIVILEGE();
  const long launcher_keyring = LauncherKeyring();
  auto attack = [launcher_keyring]() -> int {
    if (SessionKeyringId() == launcher_keyring) return 10;
    if (SessionKeyringHas(kSecret)) return 11;
    if (syscall(SYS_add_key, "user", kPlanted, "x", 1, KEY_SPEC_SESSION_KEYRING) < 0) return 12;
    return 0;
  };
  CommandBuilder launched;
  launched.Function(attack);
  CHECK(RunCaptured(testing::DemoSandbox(), launched).status == ExitStatus::Exited(0));
  ForkServerOptions options;
  options.function = attack;
  auto server = ForkServer::Start(Built(testing::DemoSandbox()), options);
  TB_REQUIRE_OK(server);
  auto forked = (*server)->Launch(Built(CommandBuilder().ForkServerFunction()));
  TB_REQUIRE_OK(forked);
  CHECK(*forked->Wait() == ExitStatus::Exited(0));
  CHECK_FALSE(SessionKeyringHas(kPlanted));
  CHECK(SessionKeyringHas(kSecret));
}

// What ShareSessionKeyring() (--share-keyring) gives up, so that the default cannot change
// unnoticed.
TEST_CASE("With ShareSessionKeyring() the program reads the launcher's keys") {
  TB_REQUIRE_PRIVILEGE();
  LauncherKeyring();
  SandboxBuilder shared = testing::DemoSandbox();
  shared.ShareSessionKeyring();
  CommandBuilder reads;
  reads.Function([] { return SessionKeyringHas(kSecret) ? 0 : 1; });
  CHECK(RunCaptured(shared, reads).status == ExitStatus::Exited(0));
}

}  // namespace
}  // namespace tokenbox
