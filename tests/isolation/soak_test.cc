// Load and soak: many launches in a row and many sandboxes at once must leave the launcher as it
// was: the same fds, the same mount table, no child or zombie, and no memory growth beyond a small
// stated bound. Bounded in count and in time; prints its figures.
#include <sys/wait.h>

#include <atomic>
#include <condition_variable>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "sandbox/launcher.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

constexpr int kSequentialLaunches = 2000;
constexpr int kConcurrentSandboxes = 100;
constexpr int kLaunchThreads = 4;
// Allocator caches and the first use of code paths may grow RSS a little; a leak of even 1 KiB
// per launch would show as ~2 MiB over the sequential run.
constexpr int64_t kRssGrowthBoundKib = 1024;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif

int64_t RssKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    absl::string_view rest = line;
    if (absl::ConsumePrefix(&rest, "VmRSS:")) {
      int64_t kib = 0;
      (void)absl::SimpleAtoi(absl::StripSuffix(absl::StripAsciiWhitespace(rest), " kB"), &kib);
      return kib;
    }
  }
  return -1;
}

bool NoChildLeft() {
  errno = 0;
  return waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD;
}

struct Snapshot {
  int fds = testing::CountOpenFds();
  int mounts = testing::CountMounts();
  int64_t rss_kib = RssKib();
};

// One sandbox and one command, launched again and again.
struct Launchable {
  Sandbox sandbox;
  Command command;
};

Launchable Spec(std::vector<std::string> argv) {
  auto sandbox = SandboxBuilder().Policy(*ParseDelegationPolicy("map_create", "array", "", "")).Build();
  auto command = CommandBuilder().Program(std::move(argv)).Timeout(absl::Seconds(30)).Build();
  REQUIRE(sandbox.ok());
  REQUIRE(command.ok());
  return {*sandbox, *command};
}

absl::StatusOr<Child> Launch(const Launchable& launchable) {
  return tokenbox::Launch(launchable.sandbox, launchable.command);
}

// The launcher after a phase: the same fds and mounts, no child, and RSS within the bound.
void CheckLeftAsBefore(const Snapshot& before, const Snapshot& after) {
  CHECK(after.fds == before.fds);
  CHECK(after.mounts == before.mounts);
  CHECK(NoChildLeft());
  if (kAddressSanitizer) {
    // ASan's quarantine and shadow memory grow RSS by design; LeakSanitizer checks leaks there.
    MESSAGE("RSS bound not checked under AddressSanitizer");
  } else {
    CHECK(after.rss_kib - before.rss_kib <= kRssGrowthBoundKib);
  }
}

void Report(const char* phase, int launches, const Snapshot& before, const Snapshot& after,
            absl::Duration took) {
  std::printf("soak: %s: %d launches in %.1f s (%.2f ms each); fds %d -> %d; mounts %d -> %d; "
              "rss %lld -> %lld KiB; children left: %s\n",
              phase, launches, absl::ToDoubleSeconds(took),
              absl::ToDoubleMilliseconds(took) / launches, before.fds, after.fds, before.mounts,
              after.mounts, static_cast<long long>(before.rss_kib),
              static_cast<long long>(after.rss_kib), NoChildLeft() ? "none" : "SOME");
  std::fflush(stdout);
}

TEST_CASE("2000 sequential launches leave fds, mounts, children and memory as they were") {
  TB_REQUIRE_PRIVILEGE();
  Launchable spec = Spec({"/bin/true"});
  for (int i = 0; i < 20; ++i) REQUIRE(*Launch(spec)->Wait() == ExitStatus::Exited(0));  // Warm up.
  Snapshot before;
  absl::Time start = absl::Now();
  for (int i = 0; i < kSequentialLaunches; ++i) {
    auto child = Launch(spec);
    REQUIRE_MESSAGE(child.ok(), child.status().ToString());
    auto status = child->Wait();
    REQUIRE(status.ok());
    REQUIRE(*status == ExitStatus::Exited(0));
  }
  Snapshot after;
  Report("sequential", kSequentialLaunches, before, after, absl::Now() - start);
  CheckLeftAsBefore(before, after);
}

// GCC 12's AddressSanitizer allocator takes no lock around fork(): a child forked while another
// thread held one of its locks deadlocks at its first allocation (seen here as sandboxes that
// never start, and under load as most of them). glibc's malloc is fork-safe, so the plain build
// launches from every thread at once. Under ASan the threads start together, take turns to
// launch and end together, so that no thread allocates while another forks.
constexpr bool kLaunchInTurns = kAddressSanitizer;

// Threads wait at it until `count` of them have arrived.
class Barrier {
 public:
  explicit Barrier(int count) : left_(count) {}
  void ArriveAndWait() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (--left_ == 0) all_arrived_.notify_all();
    all_arrived_.wait(lock, [&] { return left_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable all_arrived_;
  int left_;
};

// The launching threads end before their sandboxes do: the sandboxes must live on (a parent-death
// signal tied to the forking thread would kill them; tokenbox forks from a thread of its own).
TEST_CASE("100 sandboxes at once, launched from 4 threads, all run and all go away") {
  TB_REQUIRE_PRIVILEGE();
  Launchable spec = Spec({"/bin/sleep", "0.3"});
  Snapshot before;
  absl::Time start = absl::Now();
  constexpr int kPerThread = kConcurrentSandboxes / kLaunchThreads;
  std::vector<std::vector<Child>> running(kLaunchThreads);
  for (auto& group : running) group.reserve(kPerThread);
  std::atomic<int> failures{0};
  std::mutex turn;
  Barrier started(kLaunchThreads), finished(kLaunchThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kLaunchThreads; ++t) {
    threads.emplace_back([&, t] {
      if (kLaunchInTurns) started.ArriveAndWait();
      for (int i = 0; i < kPerThread; ++i) {
        std::unique_lock<std::mutex> my_turn(turn, std::defer_lock);
        if (kLaunchInTurns) my_turn.lock();
        auto child = Launch(spec);
        if (child.ok()) {
          running[t].push_back(*std::move(child));
        } else {
          std::fprintf(stderr, "launch failed: %s\n", child.status().ToString().c_str());
          ++failures;
        }
      }
      if (kLaunchInTurns) finished.ArriveAndWait();
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(failures == 0);
  int alive_at_once = 0;
  for (auto& group : running) {
    for (Child& child : group) {
      if (kill(child.pid(), 0) == 0) ++alive_at_once;
    }
  }
  int exited_cleanly = 0;
  for (auto& group : running) {
    for (Child& child : group) {
      auto status = child.Wait();
      if (status.ok() && *status == ExitStatus::Exited(0)) {
        ++exited_cleanly;
      } else if (exited_cleanly == 0) {
        std::printf("soak: first unclean end: %s\n", status.ok() ? status->ToString().c_str() : status.status().ToString().c_str());
      }
    }
  }
  running.clear();
  Snapshot after;
  Report("concurrent", kConcurrentSandboxes, before, after, absl::Now() - start);
  std::printf("soak: concurrent: %d of %d sandboxes were alive at the same time\n", alive_at_once,
              kConcurrentSandboxes);
  CHECK(exited_cleanly == kConcurrentSandboxes);
  CHECK(alive_at_once > kConcurrentSandboxes / 2);
  CheckLeftAsBefore(before, after);
}

}  // namespace
}  // namespace tokenbox
