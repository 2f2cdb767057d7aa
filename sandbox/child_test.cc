// A Child shared between threads: one waits while another kills, as a test runner or a
// watchdog does.
#include "sandbox/child.h"

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cerrno>
#include <optional>
#include <thread>
#include <vector>

#include "sandbox/fork_server.h"
#include "sandbox/launcher.h"
#include "tests/captured_run.h"
#include "tests/process_state.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::Built;

bool NoChildLeft() {
  errno = 0;
  return waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD;
}

TEST_CASE("Waiting on one thread while killing from another, many times, is safe") {
  TB_REQUIRE_PRIVILEGE();
  for (bool pid_namespace : {true, false}) {
    CAPTURE(pid_namespace);
    NewNamespaces namespaces;
    namespaces.pid = pid_namespace;
    SandboxBuilder builder = testing::DemoSandbox();
    builder.Namespaces(namespaces);
    Sandbox sandbox = Built(builder);
    Command sleeper = Built(testing::ProgramCommand({"/bin/sleep", "30"}));
    for (int round = 0; round < 40; ++round) {
      auto child = Launch(sandbox, sleeper);
      TB_REQUIRE_OK(child);
      std::optional<absl::StatusOr<ExitStatus>> waited, waited_too;
      std::atomic<bool> go{false};
      std::thread waiter([&] {
        while (!go) {
        }
        waited = child->Wait();
      });
      std::thread second_waiter([&] {
        while (!go) {
        }
        waited_too = child->Wait();
      });
      std::thread killer([&] {
        while (!go) {
        }
        TB_CHECK_OK(child->Kill());
      });
      go = true;
      killer.join();
      waiter.join();
      second_waiter.join();
      REQUIRE(waited->ok());
      REQUIRE(waited_too->ok());
      CHECK(**waited == ExitStatus::Signaled(SIGKILL));
      CHECK(**waited_too == **waited);
      // Once reaped, a Kill() signals nothing, and Wait() tells the same ending again.
      TB_CHECK_OK(child->Kill());
      CHECK(*child->Wait() == ExitStatus::Signaled(SIGKILL));
      CHECK(child->resource_usage().has_value());
    }
  }
  CHECK(NoChildLeft());
}

TEST_CASE("A Kill() from another thread after the timeout fired changes nothing: it timed out") {
  TB_REQUIRE_PRIVILEGE();
  Sandbox sandbox = Built(testing::DemoSandbox());
  CommandBuilder command = testing::ProgramCommand({"/bin/sleep", "30"});
  command.Timeout(absl::Milliseconds(50));
  auto child = Launch(sandbox, Built(command));
  TB_REQUIRE_OK(child);
  std::optional<absl::StatusOr<ExitStatus>> waited;
  std::thread waiter([&] { waited = child->Wait(); });
  absl::SleepFor(absl::Milliseconds(200));
  TB_CHECK_OK(child->Kill());
  waiter.join();
  REQUIRE(waited->ok());
  CHECK(**waited == ExitStatus::TimedOut());
}

// A command's deadline counts from when its launch began, for the launcher and the sandbox's pid 1
// alike, whichever way it was launched: pid 1 ends a sandbox that nothing waits on, and the
// launcher then reports a timeout, not a kill.
TEST_CASE("The timeout is one deadline, which pid 1 holds too, through Launch() and a fork server") {
  TB_REQUIRE_PRIVILEGE();
  for (testing::PidMode mode : {testing::PidMode::kPid2, testing::PidMode::kPid1}) {
    INFO(testing::PidModeName(mode));
    Sandbox sandbox = Built(testing::DemoSandbox(mode));
    CommandBuilder builder = testing::ProgramCommand({"/bin/sleep", "100"});
    builder.Timeout(absl::Milliseconds(300));
    Command command = Built(builder);
    auto server = ForkServer::Start(sandbox);
    TB_REQUIRE_OK(server);
    for (bool through_server : {false, true}) {
      INFO("through a fork server: ", through_server);
      auto child = through_server ? (*server)->Launch(command) : Launch(sandbox, command);
      TB_REQUIRE_OK(child);
      REQUIRE(testing::AwaitExit(child->pid()));
      auto status = child->Wait();
      TB_REQUIRE_OK(status);
      CHECK(*status == ExitStatus::TimedOut());
    }
  }
}

TEST_CASE("Move-assigning a Child ends the sandbox it held and takes the other") {
  TB_REQUIRE_PRIVILEGE();
  Sandbox sandbox = Built(testing::DemoSandbox());
  auto first = Launch(sandbox, Built(testing::ProgramCommand({"/bin/sleep", "30"})));
  auto second = Launch(sandbox, Built(testing::ProgramCommand({"/bin/sh", "-c", "exit 7"})));
  TB_REQUIRE_OK(first);
  TB_REQUIRE_OK(second);
  const pid_t first_pid = first->pid(), second_pid = second->pid();
  Child held = *std::move(first);
  held = *std::move(second);
  errno = 0;
  CHECK(waitpid(first_pid, nullptr, WNOHANG) == -1);  // Reaped by the assignment.
  CHECK(errno == ECHILD);
  CHECK(held.pid() == second_pid);
  CHECK(*held.Wait() == ExitStatus::Exited(7));
  CHECK(NoChildLeft());
}

}  // namespace
}  // namespace tokenbox
