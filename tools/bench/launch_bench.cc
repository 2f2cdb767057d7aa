// Measures, in one run and side by side, what it costs to start /bin/true in a sandbox: tokenbox
// (the command, and the library's fork server) against unshare(1), bubblewrap and a plain
// fork+exec. Rounds are interleaved, so that whatever else the machine does hits every peer
// alike; the figures to compare are the ratios. Run as root: tools/dev bench.
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "sandbox/fork_server.h"
#include "sandbox/launcher.h"

extern char** environ;

namespace tokenbox {
namespace {

struct Peer {
  std::string name;
  std::function<bool()> run_once;  // Starts /bin/true and waits for it; false on failure.
  std::vector<double> ms;
};

bool SpawnAndWait(const std::vector<std::string>& argv, long* max_rss_kib = nullptr) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  if (posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) return false;
  int status = 0;
  rusage usage = {};
  if (wait4(pid, &status, 0, &usage) != pid) return false;
  if (max_rss_kib != nullptr) *max_rss_kib = usage.ru_maxrss;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Waits for a library launch of /bin/true; whether it started and exited 0.
bool ExitedZero(absl::StatusOr<Child> child) {
  return child.ok() && child->Wait().value_or(ExitStatus::TimedOut()) == ExitStatus::Exited(0);
}

double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[index];
}

int Main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: launch_bench TOKENBOX [ROUNDS]\n");
    return 2;
  }
  const std::string tokenbox = argv[1];
  int rounds = 200;
  if (argc > 2 && (!absl::SimpleAtoi(argv[2], &rounds) || rounds < 10)) {
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
  auto server = ForkServer::Start(*sandbox);
  auto shared_pid_server = ForkServer::Start(*shared_pid_sandbox);
  for (const auto* started : {&server, &shared_pid_server}) {
    if (!started->ok()) {
      std::fprintf(stderr, "launch_bench: %s\n", started->status().ToString().c_str());
      return 1;
    }
  }
  // Like for like with `unshare -Urm`: only the namespaces the peers make (and tokenbox's pid
  // namespace, which neither of them has).
  std::vector<std::string> tokenbox_argv = {tokenbox,      "run",         "--share-net",
                                            "--share-ipc", "--share-uts", "--share-cgroup"};
  tokenbox_argv.insert(tokenbox_argv.end(), policy.begin(), policy.end());
  tokenbox_argv.insert(tokenbox_argv.end(), {"--", "/bin/true"});

  // Like for like with the defaults: every namespace, /proc of its own, a session of its own
  // (and for bwrap the same filesystem view). tokenbox also leases a host uid and makes a
  // cgroup (two on the hybrid layout, with the default pids limit), which no peer does.
  std::vector<std::string> tokenbox_default_argv = {tokenbox, "run"};
  tokenbox_default_argv.insert(tokenbox_default_argv.end(), policy.begin(), policy.end());
  tokenbox_default_argv.insert(tokenbox_default_argv.end(), {"--", "/bin/true"});

  std::vector<Peer> peers = {
      {"tokenbox run (full delegation)", [&] { return SpawnAndWait(tokenbox_argv); }},
      {"unshare -Urm", [] { return SpawnAndWait({"/usr/bin/unshare", "-Urm", "/bin/true"}); }},
      {"bwrap --unshare-user --dev-bind / /",
       [] {
         return SpawnAndWait({"/usr/bin/bwrap", "--unshare-user", "--dev-bind", "/", "/", "/bin/true"});
       }},
      {"plain fork+exec", [] { return SpawnAndWait({"/bin/true"}); }},
      {"fork server launch (library)", [&] { return ExitedZero((*server)->Launch(*command)); }},
      {"fork server launch, no pid namespace",
       [&] { return ExitedZero((*shared_pid_server)->Launch(*command)); }},
      {"Launch() in-process (library)", [&] { return ExitedZero(Launch(*sandbox, *command)); }},
      {"tokenbox run (defaults)", [&] { return SpawnAndWait(tokenbox_default_argv); }},
      {"unshare -Urmpf --net --ipc --uts --cgroup --mount-proc",
       [] {
         return SpawnAndWait({"/usr/bin/unshare", "-Urmpf", "--net", "--ipc", "--uts", "--cgroup",
                              "--mount-proc", "/bin/true"});
       }},
      // And tokenbox's default view: the host read-only, four private tmpfs mounts.
      {"bwrap --unshare-all --new-session --die-with-parent, tokenbox's view",
       [] {
         return SpawnAndWait({"/usr/bin/bwrap", "--unshare-all", "--new-session",
                              "--die-with-parent", "--ro-bind", "/", "/", "--proc", "/proc",
                              "--tmpfs", "/tmp", "--tmpfs", "/var/tmp", "--tmpfs", "/dev/shm",
                              "--tmpfs", "/run", "/bin/true"});
       }},
  };
  for (Peer& peer : peers) {  // Warm up caches and the fork thread.
    for (int i = 0; i < 5; ++i) peer.run_once();
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
  long tokenbox_rss = 0;
  SpawnAndWait(tokenbox_argv, &tokenbox_rss);

  std::printf("%d interleaved rounds of /bin/true\n\n", rounds);
  std::printf("| %-58s | %9s | %9s | %9s |\n", "launcher", "median ms", "p10 ms", "p90 ms");
  std::printf("| %-58s | %9s | %9s | %9s |\n", "---", "---:", "---:", "---:");
  for (const Peer& peer : peers) {
    std::printf("| %-58s | %9.3f | %9.3f | %9.3f |\n", peer.name.c_str(), Percentile(peer.ms, 0.5),
                Percentile(peer.ms, 0.1), Percentile(peer.ms, 0.9));
  }
  auto median = [&](int i) { return Percentile(peers[i].ms, 0.5); };
  std::printf("\n| ratio (medians) | measured | target |\n| --- | ---: | ---: |\n");
  std::printf("| tokenbox run / unshare -Urm | %.2f | <= 1.20 |\n", median(0) / median(1));
  std::printf("| tokenbox run / bwrap | %.2f | <= 0.80 |\n", median(0) / median(2));
  std::printf("| tokenbox run (defaults) / unshare, same namespaces | %.2f | <= 1.25 |\n",
              median(7) / median(8));
  std::printf("| tokenbox run (defaults) / bwrap, same namespaces | %.2f | <= 0.75 |\n",
              median(7) / median(9));
  std::printf("| fork server launch / plain fork+exec | %.2f | <= 1.25 |\n", median(4) / median(3));
  std::printf("| fork server launch, no pid namespace / plain fork+exec | %.2f | <= 1.25 |\n",
              median(5) / median(3));
  std::printf("\npeak RSS of the tokenbox run process: %ld KiB (target <= 4096)\n", tokenbox_rss);
  return 0;
}

}  // namespace
}  // namespace tokenbox

int main(int argc, char** argv) { return tokenbox::Main(argc, argv); }
