// Measures, in one run and side by side, what it costs to start /bin/true in a sandbox: tokenbox
// (the command, and the library's fork server) against peers configured with the same
// namespaces and mounts: bubblewrap, unshare(1), and a plain fork+exec. Rounds are interleaved,
// so that whatever else the machine does hits every peer alike; the figures to compare are the
// ratios, each against its target (docs/BENCHMARKS.md). A user made for the run launches through a
// tokenboxd the bench starts, against root's launch and against bwrap run by that same user.
// Run as root: tools/dev bench.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "sandbox/fork_server.h"
#include "sandbox/launcher.h"
#include "tools/bench/spawn.h"
#include "tools/bench/unprivileged_caller.h"


namespace tokenbox {
namespace {

struct Peer {
  std::string name;
  std::function<bool()> run_once;  // Starts /bin/true and waits for it; false on failure.
  std::vector<double> ms;
};

// Waits for a library launch of /bin/true; whether it started and exited 0.
bool ExitedZero(absl::StatusOr<Child> child) {
  return child.ok() && child->Wait().value_or(ExitStatus::TimedOut()) == ExitStatus::Exited(0);
}

double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[index];
}

// Wall time of `total` runs of `argv`, `parallel` at a time; negative when one failed.
double ConcurrentWallMs(const std::vector<std::string>& argv, int total, int parallel) {
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  const absl::Time start = absl::Now();
  std::vector<std::thread> workers;
  for (int i = 0; i < parallel; ++i) {
    workers.emplace_back([&] {
      while (next.fetch_add(1) < total) {
        if (!SpawnAndWait(argv)) failed = true;
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  if (failed) return -1;
  return absl::ToDoubleMilliseconds(absl::Now() - start);
}

std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

int Main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: launch_bench TOKENBOX TOKENBOXD PEAK_RSS [ROUNDS]\n");
    return 2;
  }
  const std::string tokenbox = argv[1];
  const std::string tokenboxd = argv[2];
  const std::string peak_rss = argv[3];
  int rounds = 200;
  if (argc > 4 && (!absl::SimpleAtoi(argv[4], &rounds) || rounds < 10)) {
    std::fprintf(stderr, "launch_bench: ROUNDS must be a number >= 10\n");
    return 2;
  }
  const std::vector<std::string> policy = {"--delegate-cmds=map_create:prog_load:btf_load",
                                           "--delegate-maps=array", "--delegate-progs=socket_filter",
                                           "--delegate-attachs=any"};
  const DelegationPolicy delegation =
      *ParseDelegationPolicy("map_create:prog_load:btf_load", "array", "socket_filter", "any");
  auto sandbox = SandboxBuilder().Policy(delegation).Build();
  NewNamespaces shared_pid;
  shared_pid.pid = false;
  auto shared_pid_sandbox = SandboxBuilder().Policy(delegation).Namespaces(shared_pid).Build();
  auto command = CommandBuilder().Program({"/bin/true"}).Build();
  if (!sandbox.ok() || !shared_pid_sandbox.ok() || !command.ok()) return 1;
  std::optional<UnprivilegedCaller> user = UnprivilegedCaller::Start(
      tokenbox, tokenboxd,
      "cmds=map_create:prog_load:btf_load maps=array progs=socket_filter attachs=any");
  if (!user.has_value()) return 1;
  auto server = ForkServer::Start(*sandbox);
  auto shared_pid_server = ForkServer::Start(*shared_pid_sandbox);
  for (const auto* started : {&server, &shared_pid_server}) {
    if (!started->ok()) {
      std::fprintf(stderr, "launch_bench: %s\n", started->status().ToString().c_str());
      return 1;
    }
  }

  // The defaults: every namespace, /proc of its own, a session of its own, the host read-only
  // with four private tmpfs mounts, its own devpts (bwrap's --dev makes one). tokenbox also
  // leases a host uid, makes cgroups, mounts a cgroup view and the delegated bpffs, creates a
  // token and drops capabilities, which no peer does.
  const std::vector<std::string> tokenbox_defaults =
      Concat(Concat({tokenbox, "run"}, policy), {"--", "/bin/true"});
  const std::vector<std::string> bwrap_defaults = {
      "/usr/bin/bwrap", "--unshare-all", "--new-session", "--die-with-parent", "--ro-bind", "/",
      "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp",
      "--tmpfs", "/dev/shm", "--tmpfs", "/run", "/bin/true"};
  const std::vector<std::string> unshare_defaults = {
      "/usr/bin/unshare", "-Urmpf", "--net", "--ipc", "--uts", "--cgroup", "--mount-proc",
      "/bin/true"};
  // Only user and mount namespaces, the launcher's session (tokenbox's view stays: it has no
  // opt-out).
  const std::vector<std::string> tokenbox_user_mount = Concat(
      Concat({tokenbox, "run", "--share-net", "--share-ipc", "--share-uts", "--share-cgroup",
              "--no-unshare-pid", "--share-session"},
             policy),
      {"--", "/bin/true"});

  std::vector<Peer> peers = {
      {"tokenbox run (defaults)", [&] { return SpawnAndWait(tokenbox_defaults); }},
      {"bwrap --unshare-all --new-session --die-with-parent, same view",
       [&] { return SpawnAndWait(bwrap_defaults); }},
      {"unshare -Urmpf --net --ipc --uts --cgroup --mount-proc",
       [&] { return SpawnAndWait(unshare_defaults); }},
      {"tokenbox run, user and mount namespaces only",
       [&] { return SpawnAndWait(tokenbox_user_mount); }},
      {"unshare -Urm", [] { return SpawnAndWait({"/usr/bin/unshare", "-Urm", "/bin/true"}); }},
      {"plain fork+exec+wait", [] { return SpawnAndWait({"/bin/true"}); }},
      {"fork-server launch, no pid namespace per launch",
       [&] { return ExitedZero((*shared_pid_server)->Launch(*command)); }},
      {"fork-server launch, own pid namespace",
       [&] { return ExitedZero((*server)->Launch(*command)); }},
      {"Launch() in-process (library, defaults)",
       [&] { return ExitedZero(Launch(*sandbox, *command)); }},
      // Forked, not vforked, and setresuid()ed to the user first (the root rows: uid 0 stays).
      {"tokenbox run (defaults), as root, forked",
       [&] { return RunAsAndWait(0, tokenbox_defaults, user->Environment()); }},
      {"tokenbox run (defaults), as a user, through tokenboxd",
       [&] {
         return RunAsAndWait(user->uid(),
                             Concat(Concat({user->tokenbox(), "run"}, policy), {"--", "/bin/true"}),
                             user->Environment());
       }},
      {"bwrap (same options and view as above), as the same user",
       [&] { return RunAsAndWait(user->uid(), bwrap_defaults, user->Environment()); }},
  };
  for (Peer& peer : peers) {  // Warm up caches.
    for (int i = 0; i < 5; ++i) {
      if (!peer.run_once()) {
        std::fprintf(stderr, "launch_bench: %s failed\n", peer.name.c_str());
        return 1;
      }
    }
  }
  for (int round = 0; round < rounds; ++round) {
    for (Peer& peer : peers) {
      absl::Time start = absl::Now();
      if (!peer.run_once()) {
        std::fprintf(stderr, "launch_bench: %s failed\n", peer.name.c_str());
        return 1;
      }
      peer.ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    }
  }

  // 200 launches, 8 at a time, alternately, three times each.
  constexpr int kTotal = 200, kParallel = 8, kBatches = 3;
  std::vector<double> tokenbox_wall, bwrap_wall;
  for (int batch = 0; batch < kBatches; ++batch) {
    tokenbox_wall.push_back(ConcurrentWallMs(tokenbox_defaults, kTotal, kParallel));
    bwrap_wall.push_back(ConcurrentWallMs(bwrap_defaults, kTotal, kParallel));
  }
  if (*std::min_element(tokenbox_wall.begin(), tokenbox_wall.end()) < 0 ||
      *std::min_element(bwrap_wall.begin(), bwrap_wall.end()) < 0) {
    std::fprintf(stderr, "launch_bench: a concurrent launch failed\n");
    return 1;
  }

  // Peak RSS, from a tiny spawner: the largest of five.
  long tokenbox_rss = 0, true_rss = 0;
  for (int i = 0; i < 5; ++i) {
    for (auto [argv_run, rss] : {std::pair{Concat({peak_rss}, tokenbox_defaults), &tokenbox_rss},
                                 std::pair{std::vector<std::string>{peak_rss, "/bin/true"},
                                           &true_rss}}) {
      std::string out;
      long kib = 0;
      if (!SpawnAndWait(argv_run, &out) ||
          !absl::SimpleAtoi(absl::StripAsciiWhitespace(out), &kib)) {
        std::fprintf(stderr, "launch_bench: peak_rss failed\n");
        return 1;
      }
      *rss = std::max(*rss, kib);
    }
  }

  std::printf("%d interleaved rounds of /bin/true\n\n", rounds);
  std::printf("| %-62s | %9s | %9s | %9s |\n", "launch", "median ms", "p10 ms", "p90 ms");
  std::printf("| %-62s | %9s | %9s | %9s |\n", "---", "---:", "---:", "---:");
  for (const Peer& peer : peers) {
    std::printf("| %-62s | %9.3f | %9.3f | %9.3f |\n", peer.name.c_str(),
                Percentile(peer.ms, 0.5), Percentile(peer.ms, 0.1), Percentile(peer.ms, 0.9));
  }
  auto median = [&](int i) { return Percentile(peers[i].ms, 0.5); };
  std::printf("\n| ratio | measured | target | met |\n| --- | ---: | ---: | --- |\n");
  auto row = [](const char* what, double measured, double target) {
    std::printf("| %s | %.2f | <= %.2f | %s |\n", what, measured, target,
                measured <= target ? "yes" : "no");
  };
  row("tokenbox run (defaults) / bwrap, same namespaces and mounts", median(0) / median(1), 0.75);
  row("tokenbox run (defaults) / unshare, same namespaces", median(0) / median(2), 1.25);
  row("tokenbox run, user and mount namespaces only / unshare -Urm", median(3) / median(4), 1.40);
  row("fork-server launch, no pid namespace / plain fork+exec+wait", median(6) / median(5), 1.15);
  row("fork-server launch, own pid namespace / plain fork+exec+wait", median(7) / median(5),
      1.35);
  row("200 launches 8 at a time, wall time: tokenbox run / bwrap",
      Percentile(tokenbox_wall, 0.5) / Percentile(bwrap_wall, 0.5), 0.75);
  row("tokenbox run as a user, through tokenboxd / as root (both forked)", median(10) / median(9),
      1.20);
  row("tokenbox run as a user, through tokenboxd / bwrap as that user, same view",
      median(10) / median(11), 1.00);
  std::printf("\n%d launches %d at a time (median of %d batches, alternating): tokenbox run "
              "%.0f ms, bwrap %.0f ms\n",
              kTotal, kParallel, kBatches, Percentile(tokenbox_wall, 0.5),
              Percentile(bwrap_wall, 0.5));
  std::printf("peak RSS of tokenbox run (defaults): %ld KiB (target <= 2560: %s; /bin/true: %ld "
              "KiB)\n",
              tokenbox_rss, tokenbox_rss <= 2560 ? "met" : "not met", true_rss);
  return 0;
}

}  // namespace
}  // namespace tokenbox

int main(int argc, char** argv) { return tokenbox::Main(argc, argv); }
