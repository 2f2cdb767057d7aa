// What the sandbox's own namespaces keep from the host and from other sandboxes, attacked from
// inside, and what each opt-out gives back.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <sys/inotify.h>
#include <sys/ipc.h>
#include <sys/ptrace.h>
#include <sys/mount.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <stdlib.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ns/unique_fd.h"
#include "ns/pipe.h"
#include "sandbox/fork_server.h"
#include "sandbox/host_resources/host_id_lease.h"
#include "sandbox/inside.h"
#include "sandbox/launcher.h"
#include "tests/bpf_ops.h"
#include "tests/captured_run.h"
#include "tests/command_runner.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::Built;
using ::tokenbox::testing::RunCaptured;

// Runs `function` in a sandbox through Launch() and through a fork server, and returns the exit
// codes, which must be the same.
int ExitCodeEitherWay(const SandboxBuilder& sandbox, const std::function<int()>& function) {
  CommandBuilder launched;
  launched.Function(function);
  const ExitStatus direct = RunCaptured(sandbox, launched).status;
  ForkServerOptions options;
  options.function = function;
  auto server = ForkServer::Start(Built(sandbox), options);
  REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  auto child = (*server)->Launch(Built(CommandBuilder().ForkServerFunction()));
  REQUIRE_MESSAGE(child.ok(), child.status().ToString());
  const ExitStatus forked = *child->Wait();
  CHECK(forked == direct);
  REQUIRE(direct.kind == ExitStatus::Kind::kExited);
  return direct.code;
}

SandboxBuilder Sharing(void (*share)(NewNamespaces&)) {
  NewNamespaces namespaces;
  share(namespaces);
  SandboxBuilder sandbox = testing::DemoSandbox();
  sandbox.Namespaces(namespaces);
  return sandbox;
}

// The launcher's services: a unix socket in the abstract namespace, and TCP on loopback.
struct HostServices {
  HostServices() {
    abstract_name = absl::StrCat("tokenbox-isolation-test-", getpid());
    sockaddr_un unix_address = AbstractAddress(abstract_name);
    unix_listener = UniqueFd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(bind(unix_listener.get(), reinterpret_cast<sockaddr*>(&unix_address),
                 AddressLength(abstract_name)) == 0);
    REQUIRE(listen(unix_listener.get(), 8) == 0);
    tcp_listener = UniqueFd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in tcp_address = {};
    tcp_address.sin_family = AF_INET;
    tcp_address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(tcp_listener.get(), reinterpret_cast<sockaddr*>(&tcp_address), sizeof(tcp_address)) == 0);
    REQUIRE(listen(tcp_listener.get(), 8) == 0);
    socklen_t length = sizeof(tcp_address);
    REQUIRE(getsockname(tcp_listener.get(), reinterpret_cast<sockaddr*>(&tcp_address), &length) == 0);
    tcp_port = ntohs(tcp_address.sin_port);
  }

  static sockaddr_un AbstractAddress(const std::string& name) {
    sockaddr_un address = {};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path + 1, name.data(), name.size());
    return address;
  }
  static socklen_t AddressLength(const std::string& name) {
    return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  }

  // From inside: how many of the two the program reached.
  int Reached() const {
    int reached = 0;
    UniqueFd unix_client(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un unix_address = AbstractAddress(abstract_name);
    if (connect(unix_client.get(), reinterpret_cast<sockaddr*>(&unix_address),
                AddressLength(abstract_name)) == 0) {
      ++reached;
    }
    UniqueFd tcp_client(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    // A dropped SYN makes connect() wait for retries, minutes long; this bounds it.
    timeval patience = {2, 0};
    setsockopt(tcp_client.get(), SOL_SOCKET, SO_SNDTIMEO, &patience, sizeof(patience));
    sockaddr_in tcp_address = {};
    tcp_address.sin_family = AF_INET;
    tcp_address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    tcp_address.sin_port = htons(tcp_port);
    if (connect(tcp_client.get(), reinterpret_cast<sockaddr*>(&tcp_address), sizeof(tcp_address)) == 0) {
      ++reached;
    }
    return reached;
  }

  std::string abstract_name;
  UniqueFd unix_listener, tcp_listener;
  uint16_t tcp_port = 0;
};

TEST_CASE("The program reaches neither the launcher's abstract unix sockets nor its loopback services") {
  TB_REQUIRE_PRIVILEGE();
  HostServices host;
  REQUIRE(host.Reached() == 2);  // The probe works: from the host, both answer.
  CHECK(ExitCodeEitherWay(testing::DemoSandbox(), [&] { return host.Reached(); }) == 0);
}

TEST_CASE("With the network shared, the program reaches both (what --share-net gives up)") {
  TB_REQUIRE_PRIVILEGE();
  HostServices host;
  SandboxBuilder shared = Sharing([](NewNamespaces& ns) { ns.net = false; });
  CHECK(ExitCodeEitherWay(shared, [&] { return host.Reached(); }) == 2);
}

// Launches `function` in `sandbox`, through Launch() and through a fork server. The function
// tells the launcher on fd 5 that it holds what it took, and holds it until fd 6 closes;
// meanwhile the launcher runs `check`. The sandbox must then exit 0.
void CheckWhileHeld(const SandboxBuilder& sandbox, int (*function)(),
                    const std::function<void(const Child& holder)>& check) {
  for (bool via_fork_server : {false, true}) {
    CAPTURE(via_fork_server);
    auto held = MakePipe();
    auto done = MakePipe();
    REQUIRE(held.ok());
    REQUIRE(done.ok());
    // The builder keeps copies of the passed fds: it goes before the launcher waits on them.
    auto command = std::make_unique<CommandBuilder>();
    command->Timeout(absl::Seconds(60));
    command->PassFd(held->write_end.get(), 5).PassFd(done->read_end.get(), 6);
    std::unique_ptr<ForkServer> server;
    absl::StatusOr<Child> child;
    if (via_fork_server) {
      ForkServerOptions options;
      options.function = function;
      auto started = ForkServer::Start(Built(sandbox), options);
      REQUIRE_MESSAGE(started.ok(), started.status().ToString());
      server = *std::move(started);
      child = server->Launch(Built(command->ForkServerFunction()));
    } else {
      child = Launch(Built(sandbox), Built(command->Function(function)));
    }
    command.reset();
    REQUIRE_MESSAGE(child.ok(), child.status().ToString());
    held->write_end.Reset();
    done->read_end.Reset();
    char byte;
    if (read(held->read_end.get(), &byte, 1) == 1) check(*child);
    done->write_end.Reset();
    const ExitStatus ended = *child->Wait();
    CHECK_MESSAGE(ended == ExitStatus::Exited(0), ended.ToString());
  }
}

// The end of a function run by CheckWhileHeld(): tells the launcher, and waits for its check.
int HoldUntilChecked() {
  (void)!write(5, "h", 1);
  char done;
  (void)!read(6, &done, 1);
  return 0;
}

// From inside: loads a `type` program that returns 0 (drop) for `attach`, links it to what
// `target` names, checks that it drops a TCP connection to a listener of the sandbox's own, and
// holds the link while the launcher tries its own service.
int LinkDropAllAndHold(bpf_prog_type type, bpf_attach_type attach, const char* target,
                       int open_flags) {
  absl::StatusOr<SandboxEnvironment> inside = CurrentSandbox();
  if (!inside.ok()) return 10;
  absl::StatusOr<UniqueFd> drop_all =
      testing::LoadTrivialProgram(type, attach, inside->token_fd, /*ret=drop*/ 0);
  if (!drop_all.ok()) return 11;
  UniqueFd target_fd(open(target, open_flags | O_CLOEXEC));
  if (!target_fd) return 12;
  bpf_attr attr = {};
  attr.link_create.prog_fd = static_cast<uint32_t>(drop_all->get());
  attr.link_create.target_fd = static_cast<uint32_t>(target_fd.get());
  attr.link_create.attach_type = attach;
  UniqueFd link(static_cast<int>(syscall(SYS_bpf, BPF_LINK_CREATE, &attr, sizeof(attr))));
  if (!link) return 13;
  HostServices own;  // Listeners in the sandbox's own namespace.
  if (own.Reached() != 1) return 14;  // Only the abstract unix socket: TCP is dropped.
  return HoldUntilChecked();
}

// An sk_lookup program linked to the network namespace /proc/self/ns/net names.
int DropEveryConnection() {
  return LinkDropAllAndHold(BPF_PROG_TYPE_SK_LOOKUP, BPF_SK_LOOKUP, "/proc/self/ns/net",
                            O_RDONLY);
}

// With the host's network namespace shared, such a program could drop or steer every connection
// to the host (so --share-net with sk_lookup is refused at Build()). In the sandbox's own
// namespace it reaches only the sandbox's connections.
TEST_CASE("A delegated sk_lookup program drops the sandbox's connections, not the host's") {
  TB_REQUIRE_PRIVILEGE();
  HostServices host;
  SandboxBuilder sandbox;
  sandbox.Policy(*ParseDelegationPolicy("prog_load", "", "sk_lookup", "sk_lookup"));
  int reached = -1;
  CheckWhileHeld(sandbox, DropEveryConnection, [&](const Child&) { reached = host.Reached(); });
  CHECK(reached == 2);  // While the sandbox's drop-all program was linked.
}

// The host pid of the process whose system calls CountLaunchersSyscallsAndHold() counts: the
// test's own. Set before the launch, so that the sandbox's copy of it has the value.
pid_t g_traced_host_pid = 0;

// From inside: a raw tracepoint program on sys_enter that counts the system calls of host
// process g_traced_host_pid, which is in no namespace of the sandbox's. Holds it while the
// launcher makes system calls, then exits 0 if it saw at least 100 of them (100 + errno when the
// program does not load).
int CountLaunchersSyscallsAndHold() {
  absl::StatusOr<SandboxEnvironment> inside = CurrentSandbox();
  if (!inside.ok()) return 10;
  absl::StatusOr<UniqueFd> counter = testing::CreateMap(BPF_MAP_TYPE_ARRAY, inside->token_fd);
  if (!counter.ok()) return 11;
  const int32_t map_fd = counter->get();
  const bpf_insn count_if_traced[] = {
      {BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_current_pid_tgid},
      {BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_0, 0, 0, 32},                     // r0 = tgid
      {BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, 9, g_traced_host_pid},        // else done
      {BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -4, 0},                       // key 0
      {BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0},
      {BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4},                     // r2 = &key
      {BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map_fd},   // r1 = map
      {0, 0, 0, 0, 0},
      {BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem},
      {BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 2, 0},                        // no value: done
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 1},
      {BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_0, BPF_REG_1, 0, BPF_ADD},      // ++*value
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},                      // done: r0 = 0
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  bpf_attr load = {};
  load.prog_type = BPF_PROG_TYPE_RAW_TRACEPOINT;
  load.insns = reinterpret_cast<uint64_t>(count_if_traced);
  load.insn_cnt = sizeof(count_if_traced) / sizeof(count_if_traced[0]);
  load.license = reinterpret_cast<uint64_t>("GPL");
  load.prog_flags = BPF_F_TOKEN_FD;
  load.prog_token_fd = inside->token_fd;
  UniqueFd program(static_cast<int>(syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load))));
  if (!program) return 100 + errno;
  bpf_attr open_tracepoint = {};
  open_tracepoint.raw_tracepoint.name = reinterpret_cast<uint64_t>("sys_enter");
  open_tracepoint.raw_tracepoint.prog_fd = static_cast<uint32_t>(program.get());
  UniqueFd link(static_cast<int>(
      syscall(SYS_bpf, BPF_RAW_TRACEPOINT_OPEN, &open_tracepoint, sizeof(open_tracepoint))));
  if (!link) return 13;
  HoldUntilChecked();
  uint32_t key = 0;
  uint64_t seen = 0;
  bpf_attr lookup = {};
  lookup.map_fd = static_cast<uint32_t>(map_fd);
  lookup.key = reinterpret_cast<uint64_t>(&key);
  lookup.value = reinterpret_cast<uint64_t>(&seen);
  if (syscall(SYS_bpf, BPF_MAP_LOOKUP_ELEM, &lookup, sizeof(lookup)) != 0) return 14;
  return seen >= 100 ? 0 : 15;
}

DelegationPolicy TracingPolicy() {
  return *ParseDelegationPolicy("map_create:prog_load", "array", "raw_tracepoint",
                                "cgroup_inet_ingress");
}

// What --allow-host-tracing (with --keep-caps=perfmon) gives up: a tracing program sees the
// whole machine. Here it counts the system calls the launcher, a host process, makes.
TEST_CASE("With host tracing allowed, the program traces host processes (what it gives up)") {
  TB_REQUIRE_PRIVILEGE();
  g_traced_host_pid = getpid();
  SandboxBuilder sandbox;
  sandbox.Policy(TracingPolicy())
      .KeepCapabilities(CapabilitySet::Of({CAP_PERFMON}))
      .AllowHostWideTracing();
  int calls_made = 0;
  CheckWhileHeld(sandbox, CountLaunchersSyscallsAndHold, [&](const Child&) {
    for (calls_made = 0; calls_made < 200; ++calls_made) syscall(SYS_getppid);
  });
  CHECK(calls_made == 200);  // The sandbox's count is its exit code, which CheckWhileHeld checks.
}

// The default twin: the same delegation, without CAP_PERFMON, cannot load the program; keeping
// CAP_PERFMON without the flag is refused before launch (sandbox_test.cc).
TEST_CASE("By default the delegated tracing program does not load") {
  TB_REQUIRE_PRIVILEGE();
  g_traced_host_pid = getpid();
  SandboxBuilder sandbox;
  sandbox.Policy(TracingPolicy());
  CHECK(ExitCodeEitherWay(sandbox, CountLaunchersSyscallsAndHold) == 100 + EPERM);
}

// The cgroup2 hierarchy as the sandbox sees it: at /sys/fs/cgroup on a machine with cgroup v2
// alone, at /sys/fs/cgroup/unified on a hybrid one (as the host has it).
std::string VisibleCgroup2Root() {
  struct stat st;
  return stat("/sys/fs/cgroup/unified/cgroup.procs", &st) == 0 ? "/sys/fs/cgroup/unified"
                                                                : "/sys/fs/cgroup";
}

// The host's cgroups that tokenbox made for sandboxes of this process.
int OwnSandboxCgroupsLeft() {
  std::ifstream cgroups("/proc/self/cgroup");
  std::string line, own;
  while (std::getline(cgroups, line)) {
    if (line.rfind("0::", 0) == 0) own = line.substr(3);
  }
  const std::string parent = VisibleCgroup2Root() + (own == "/" ? "" : own);
  int left = 0;
  if (DIR* dir = opendir(parent.c_str())) {
    const std::string prefix = absl::StrCat("tokenbox-", getpid(), "-");
    while (dirent* entry = readdir(dir)) {
      if (std::string(entry->d_name).rfind(prefix, 0) == 0) ++left;
    }
    closedir(dir);
  }
  return left;
}

// A cgroup_skb program that drops every packet sent, linked to the topmost cgroup the sandbox
// can open. Before the sandbox had a cgroup and a view of its own, that was the host's root.
int DropEveryPacketSent() {
  return LinkDropAllAndHold(BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS,
                            VisibleCgroup2Root().c_str(), O_RDONLY | O_DIRECTORY);
}

// A cgroup namespace of its own does not hide the host's hierarchies, and with CAP_NET_ADMIN a
// cgroup program could attach to a host cgroup through them. The sandbox sees a cgroup2
// hierarchy whose root is a cgroup of its own, and v1 hierarchies not at all.
TEST_CASE("A delegated cgroup program attaches to the sandbox's own cgroup, not the host's") {
  TB_REQUIRE_PRIVILEGE();
  HostServices host;
  SandboxBuilder sandbox;
  sandbox.Policy(*ParseDelegationPolicy("prog_load", "", "cgroup_skb", "cgroup_inet_egress"))
      .KeepCapabilities(CapabilitySet::Of({CAP_NET_ADMIN}));
  int reached = -1;
  CheckWhileHeld(sandbox, DropEveryPacketSent, [&](const Child&) { reached = host.Reached(); });
  CHECK(reached == 2);  // While the sandbox's drop-all program was linked.
  CHECK(OwnSandboxCgroupsLeft() == 0);
}

TEST_CASE("The sandbox's /sys/fs/cgroup shows its own cgroup as the root, and no v1 hierarchy") {
  TB_REQUIRE_PRIVILEGE();
  // A cgroup of the host's, beside the launcher's: it must not show inside.
  const std::string marker = absl::StrCat(VisibleCgroup2Root(), "/tokenbox-test-marker-", getpid());
  REQUIRE(mkdir(marker.c_str(), 0755) == 0);
  const std::string marker_name = marker.substr(marker.rfind('/') + 1);
  CHECK(ExitCodeEitherWay(testing::DemoSandbox(), [marker_name] {
          const std::string root = VisibleCgroup2Root();
          struct stat st;
          if (stat((root + "/" + marker_name).c_str(), &st) == 0) return 10;
          for (const char* v1 : {"/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids",
                                 "/sys/fs/cgroup/systemd"}) {
            if (stat(v1, &st) == 0) return 11;
          }
          // No cgroup below the root: the sandbox's has none.
          DIR* dir = opendir(root.c_str());
          if (dir == nullptr) return 12;
          int subdirectories = 0;
          while (dirent* entry = readdir(dir)) {
            if (entry->d_type == DT_DIR && entry->d_name[0] != '.') ++subdirectories;
          }
          closedir(dir);
          if (subdirectories != 0) return 13;
          // Read-only: no cgroup of its own making.
          if (mkdir((root + "/made").c_str(), 0755) == 0 || errno != EROFS) return 14;
          return 0;
        }) == 0);
  rmdir(marker.c_str());
  CHECK(OwnSandboxCgroupsLeft() == 0);
}

// What --share-cgroup gives up: no cgroup of its own, and the host's view of /sys/fs/cgroup.
TEST_CASE("With the cgroup namespace shared, host cgroups show (what --share-cgroup gives up)") {
  TB_REQUIRE_PRIVILEGE();
  // A cgroup of the host's beside the launcher's, as in the test of the default above.
  const std::string marker =
      absl::StrCat(VisibleCgroup2Root(), "/tokenbox-test-shared-", getpid());
  REQUIRE(mkdir(marker.c_str(), 0755) == 0);
  CommandBuilder command;
  command.Function([marker] {
    struct stat st;
    return stat(marker.c_str(), &st) == 0 ? 0 : 10;
  });
  CHECK(RunCaptured(Sharing([](NewNamespaces& ns) { ns.cgroup = false; }), command).status ==
        ExitStatus::Exited(0));
  rmdir(marker.c_str());
}

constexpr int kPtyAttempts = 1000;

// From inside: takes as many pseudo-terminals as it can (at most kPtyAttempts), and holds them.
int TakeEveryPseudoTerminal() {
  std::vector<UniqueFd> taken;
  while (taken.size() < kPtyAttempts) {
    UniqueFd master(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!master) break;
    taken.push_back(std::move(master));
  }
  // They come from an instance of its own, which numbers from 0.
  if (taken.empty() || std::string(ptsname(taken[0].get())) != "/dev/pts/0") return 10;
  if (taken.size() != 64) return 11;
  return HoldUntilChecked();
}

// Sharing the host's devpts, a sandbox could take every pseudo-terminal of the machine, after
// which root's openpty() would fail.
TEST_CASE("The sandbox takes pseudo-terminals from a bounded devpts of its own") {
  TB_REQUIRE_PRIVILEGE();
  bool host_could_open = false;
  CheckWhileHeld(testing::DemoSandbox(), TakeEveryPseudoTerminal, [&](const Child&) {
    UniqueFd master(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    host_could_open = master.valid();
  });
  CHECK(host_could_open);
}

// fs.inotify.max_user_instances: how many inotify instances one user may hold, per user
// namespace and in each namespace above it.
int MaxInotifyInstances() {
  std::ifstream limit("/proc/sys/fs/inotify/max_user_instances");
  int value = -1;
  limit >> value;
  return value;
}

// From inside: takes every inotify instance its user may have (bounded), and holds them.
int TakeEveryInotifyInstance() {
  const int limit = MaxInotifyInstances();
  if (limit <= 0 || limit > 100000) return 10;
  std::vector<UniqueFd> taken;
  while (static_cast<int>(taken.size()) <= limit) {
    UniqueFd instance(inotify_init1(IN_CLOEXEC));
    if (!instance) break;
    taken.push_back(std::move(instance));
  }
  if (errno != EMFILE) return 11;
  // A host uid of its own has none of its own in use: it gets the whole allowance.
  if (static_cast<int>(taken.size()) != limit) return 12;
  return HoldUntilChecked();
}

// Per-user counts are charged to the uid that created the user namespace: created by the root
// launcher, what the sandbox takes would count against host root, and one sandbox could make
// root's inotify_init1 fail (EMFILE). Created by the sandbox's own leased uid, it counts there.
TEST_CASE("Per-user kernel counts are the sandbox's own host uid's, not root's") {
  TB_REQUIRE_PRIVILEGE();
  bool root_could = false;
  CheckWhileHeld(testing::DemoSandbox(), TakeEveryInotifyInstance, [&](const Child&) {
    // Root may hold many already (its daemons'); a few more are enough to tell.
    constexpr size_t kFew = 8;
    std::vector<UniqueFd> taken;
    while (taken.size() < kFew) {
      UniqueFd instance(inotify_init1(IN_CLOEXEC));
      if (!instance) break;
      taken.push_back(std::move(instance));
    }
    root_could = taken.size() == kFew;
  });
  CHECK(root_could);
}

// From inside, without a pid namespace: signals and traces the process named by PEER_PID, a
// sandbox launched the same way.
int ReachPeer() {
  const char* peer = getenv("PEER_PID");
  if (peer == nullptr) return 10;
  const pid_t pid = atoi(peer);
  if (kill(pid, 0) == 0 || errno != EPERM) return 11;
  if (ptrace(PTRACE_ATTACH, pid, nullptr, nullptr) == 0 || errno != EPERM) return 12;
  if (syscall(SYS_pidfd_open, pid, 0) < 0) return 13;  // Visible: only the ids keep it out.
  return 0;
}

// How ReachPeer() ended, run in `sandbox` while another launch of it holds (both without pid
// namespaces, so that each can name the other).
int ReachPeerWhileHeld(const SandboxBuilder& sandbox) {
  int peer_result = -1;
  CheckWhileHeld(sandbox, HoldUntilChecked, [&](const Child& holder) {
    CommandBuilder command;
    command.SetEnv("PEER_PID", absl::StrCat(holder.pid())).Function(ReachPeer);
    const ExitStatus ended = RunCaptured(sandbox, command).status;
    peer_result = ended.kind == ExitStatus::Kind::kExited ? ended.code : -2;
  });
  return peer_result;
}

// Sandboxes sharing a host uid could signal and trace one another wherever they can see each
// other (here, without pid namespaces).
TEST_CASE("Sandboxes have distinct host uids and cannot signal or trace one another") {
  TB_REQUIRE_PRIVILEGE();
  CHECK(ReachPeerWhileHeld(Sharing([](NewNamespaces& ns) { ns.pid = false; })) == 0);
}

// What --uid gives up: two sandboxes given the same host uid can signal one another.
TEST_CASE("Sandboxes given the same host uid can signal one another (what --uid gives up)") {
  TB_REQUIRE_PRIVILEGE();
  SandboxBuilder sandbox = Sharing([](NewNamespaces& ns) { ns.pid = false; });
  sandbox.HostUser(65534).HostGroup(65534);
  CHECK(ReachPeerWhileHeld(sandbox) == 11);  // kill(peer, 0) succeeded.
}

// The owner, on the host, of a file a function creates in a directory everyone may write, with
// the host read-only but for that directory.
uid_t OwnerOfFileWritten(SandboxBuilder sandbox) {
  testing::StagedFiles stage;
  REQUIRE(chmod(stage.dir().c_str(), 01777) == 0);
  const std::string file = stage.dir() + "/written";
  sandbox.Bind(stage.dir(), stage.dir());
  CommandBuilder command;
  command.Function([file] {
    UniqueFd fd(open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    return fd.valid() ? 0 : 10;
  });
  REQUIRE(RunCaptured(sandbox, command).status == ExitStatus::Exited(0));
  struct stat st;
  REQUIRE(stat(file.c_str(), &st) == 0);
  unlink(file.c_str());
  return st.st_uid;
}

// What --allow-host-root gives up, so that the refusal cannot change unnoticed: with host root
// mapped, what the sandbox writes is host root's.
TEST_CASE("A file the sandbox writes is its leased uid's; with host root mapped, root's") {
  TB_REQUIRE_PRIVILEGE();
  CHECK(IsLeasedHostId(OwnerOfFileWritten(testing::DemoSandbox())));
  SandboxBuilder host_root = testing::DemoSandbox();
  host_root.HostUser(0).HostGroup(0).AllowHostRoot();
  CHECK(OwnerOfFileWritten(host_root) == 0u);
}

// From inside: mounts a tmpfs over the read-only host's /etc.
int MountOverHost() {
  if (mount("tokenbox-test", "/etc", "tmpfs", 0, nullptr) == 0) return 0;
  return errno == EPERM ? 10 : 11;
}

// What --allow-sys-admin gives up: kept, CAP_SYS_ADMIN mounts over the read-only host view.
TEST_CASE("The program cannot mount over the host's view; with CAP_SYS_ADMIN kept it can") {
  TB_REQUIRE_PRIVILEGE();
  SandboxBuilder sandbox = testing::DemoSandbox();
  CHECK(ExitCodeEitherWay(sandbox, MountOverHost) == 10);
  sandbox.KeepCapabilities(CapabilitySet::Of({CAP_SYS_ADMIN})).AllowSysAdmin();
  CHECK(ExitCodeEitherWay(sandbox, MountOverHost) == 0);
}

constexpr key_t kShmKey = 0x70b0c5;
constexpr char kQueue[] = "/tokenbox-isolation-test";

// From inside: leaves a SysV shared memory segment and a POSIX message queue behind.
int LeaveIpcObjects() {
  if (shmget(kShmKey, 4096, IPC_CREAT | 0666) < 0) return 10;
  mq_attr attributes = {};
  attributes.mq_maxmsg = 1;
  attributes.mq_msgsize = 16;
  mqd_t queue = mq_open(kQueue, O_CREAT | O_RDWR, 0666, &attributes);
  if (queue == static_cast<mqd_t>(-1)) return 11;
  mq_close(queue);
  return 0;
}

// On the host, after the sandbox: how many of the two are there (and removes them).
int IpcObjectsLeft() {
  int left = 0;
  if (int id = shmget(kShmKey, 0, 0); id >= 0) {
    ++left;
    shmctl(id, IPC_RMID, nullptr);
  }
  if (mq_unlink(kQueue) == 0) ++left;
  return left;
}

TEST_CASE("SysV IPC and POSIX message queues die with the sandbox, unseen by the host") {
  TB_REQUIRE_PRIVILEGE();
  REQUIRE(IpcObjectsLeft() >= 0);  // None from an earlier run.
  CHECK(ExitCodeEitherWay(testing::DemoSandbox(), LeaveIpcObjects) == 0);
  CHECK(IpcObjectsLeft() == 0);
}

TEST_CASE("With IPC shared, they outlive the sandbox (what --share-ipc gives up)") {
  TB_REQUIRE_PRIVILEGE();
  REQUIRE(IpcObjectsLeft() >= 0);
  CommandBuilder command;
  command.Function(LeaveIpcObjects);
  CHECK(RunCaptured(Sharing([](NewNamespaces& ns) { ns.ipc = false; }), command).status ==
        ExitStatus::Exited(0));
  CHECK(IpcObjectsLeft() == 2);
}

// What --share-uts gives up: the host's hostname shows.
TEST_CASE("With UTS shared, the host's hostname shows (what --share-uts gives up)") {
  TB_REQUIRE_PRIVILEGE();
  char host[64] = {};
  REQUIRE(gethostname(host, sizeof(host) - 1) == 0);
  REQUIRE(std::string(host) != "tokenbox");
  const std::string expected = host;
  CommandBuilder command;
  command.Function([expected] {
    char name[64] = {};
    return gethostname(name, sizeof(name) - 1) == 0 && expected == name ? 0 : 10;
  });
  CHECK(RunCaptured(Sharing([](NewNamespaces& ns) { ns.uts = false; }), command).status ==
        ExitStatus::Exited(0));
}

TEST_CASE("By default the hostname is the sandbox's own and its cgroups show as their roots") {
  TB_REQUIRE_PRIVILEGE();
  CHECK(ExitCodeEitherWay(testing::DemoSandbox(), [] {
          char name[64] = {};
          if (gethostname(name, sizeof(name) - 1) != 0 || std::string(name) != "tokenbox") return 10;
          std::ifstream cgroups("/proc/self/cgroup");
          std::string line;
          while (std::getline(cgroups, line)) {
            if (line.substr(line.rfind(':') + 1) != "/") return 11;
          }
          return 0;
        }) == 0);
}

}  // namespace
}  // namespace tokenbox
