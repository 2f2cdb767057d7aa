// tokenboxd attacked: a user who is not root speaks its protocol by hand, with every byte and fd
// chosen to get more than its grant: namespace, proc, cgroup and directory fds, fds more or
// fewer than the request names, malformed, oversized, stalled and abandoned requests, and more
// connections than one user may hold. Each is refused with its line, and leaves nothing behind.
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ns/errno_status.h"
#include "ns/fd_passing.h"
#include "ns/run_in_child.h"
#include "ns/unique_fd.h"
#include "sandbox/command.h"
#include "sandbox/command_codec.h"
#include "sandbox/protocol.h"
#include "sandbox/sandbox.h"
#include "sandbox/sandbox_codec.h"
#include "sandbox/service/service_protocol.h"
#include "tests/process_state.h"
#include "tests/service/daemon_harness.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::Contains;
using ::tokenbox::testing::TestDaemon;
using ::tokenbox::testing::TestUser;

constexpr char kUser[] = "tbx-attacker";

struct World {
  TestUser user{kUser};
  TestDaemon daemon{absl::StrCat(kUser, " cmds=map_create:prog_load maps=array progs=sk_lookup:"
                                        "cgroup_skb attachs=any caps=net_admin\n"),
                    {"--request-timeout=1s"}};
  bool ready() const { return user.created() && daemon.running(); }
};

// Made at the first test case that needs it, and destroyed at exit: the daemon stopped, the
// users removed.
World& TheWorld() {
  static World world;
  return world;
}

#define TB_REQUIRE_WORLD()                                                          \
  TB_REQUIRE_PRIVILEGE();                                                           \
  World& world = TheWorld();                                                        \
  REQUIRE_MESSAGE(world.ready(), "the test user or tokenboxd could not be made: ", \
                  world.daemon.log())

UniqueFd Connect(const std::string& path) {
  UniqueFd sock(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  if (connect(sock.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    return UniqueFd();
  }
  return sock;
}

// As the test user, in a child: connects, runs `exchange` on the connection, and returns what it
// returns.
absl::Status AsUser(const std::function<absl::Status(int sock)>& exchange) {
  World& world = TheWorld();
  const uid_t uid = world.user.uid();
  const auto log_held = world.daemon.HoldLog();
  return RunInChild([&]() -> absl::Status {
    if (setgroups(0, nullptr) != 0 || setresgid(uid, uid, uid) != 0 ||
        setresuid(uid, uid, uid) != 0) {
      return ErrnoStatus(errno, "setresuid");
    }
    UniqueFd sock = Connect(world.daemon.socket());
    if (!sock) return ErrnoStatus(errno, "connect");
    return exchange(sock.get());
  });
}

// tokenboxd's answer to a request: OK when a sandbox started (and is then ended by closing),
// else its refusal.
absl::Status Answer(int sock) {
  absl::StatusOr<FdMessage> reply = ReceiveFdMessage(sock, absl::Seconds(20));
  if (!reply.ok()) return reply.status();
  if (reply->type == kServiceRefused) return DecodeSetupFailure(reply->payload);
  if (reply->type == kServiceStarted) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat("message ", reply->type));
}

Sandbox ArrayMaps() {
  auto sandbox = SandboxBuilder()
                     .Policy(*ParseDelegationPolicy("map_create", "array", "", ""))
                     .Build();
  REQUIRE(sandbox.ok());
  return *sandbox;
}

Command True(const std::vector<int>& targets = {}) {
  CommandBuilder builder;
  builder.Program({"/bin/true"}).ClearEnvironment();
  for (int target : targets) builder.PassFd(STDIN_FILENO, target);
  auto command = builder.Build();
  REQUIRE(command.ok());
  return *command;
}

// A launch request of `sandbox` and `command` whose passed fds are `fds` (the command must name
// as many), with `bind_sources` first.
ServiceRequest LaunchRequest(const Sandbox& sandbox, const Command& command, uint32_t bind_sources,
                             uint32_t passed) {
  ServiceRequest request;
  request.kind = ServiceRequest::Kind::kLaunch;
  request.sandbox = SandboxCodec::Encode(sandbox);
  request.command = CommandCodec::Encode(command);
  request.bind_sources = bind_sources;
  request.passed_fds = passed;
  return request;
}

std::string Refusal(const absl::Status& status) { return std::string(status.message()); }

TEST_CASE("An honest request by hand is granted: the attacks below differ from it in one thing") {
  TB_REQUIRE_WORLD();
  absl::Status granted = AsUser([](int sock) -> absl::Status {
    if (absl::Status s = SendServiceRequest(sock, LaunchRequest(ArrayMaps(), True(), 0, 0), {});
        !s.ok()) {
      return s;
    }
    return Answer(sock);
  });
  TB_CHECK_OK(granted);
}

TEST_CASE("A namespace, proc, cgroup or directory fd is refused, as a passed fd or a bind source") {
  TB_REQUIRE_WORLD();
  struct Case {
    const char* path;
    int flags;
    bool bind_source;
    const char* refusal;
  } cases[] = {
      {"/proc/self/ns/net", O_RDONLY, false, "passed fd 1 is on nsfs"},
      {"/proc/self/ns/user", O_RDONLY, false, "passed fd 1 is on nsfs"},
      {"/proc/self", O_PATH | O_DIRECTORY, false, "passed fd 1 is on proc"},
      {"/sys/fs/cgroup/unified", O_PATH | O_DIRECTORY, false, "passed fd 1 is on cgroup2"},
      {"/tmp", O_PATH | O_DIRECTORY, false, "passed fd 1 is a directory"},
      {"/proc", O_PATH | O_DIRECTORY, true, "bind source 1 is on proc"},
      {"/sys/fs/cgroup/unified", O_PATH | O_DIRECTORY, true, "bind source 1 is on cgroup2"},
      {"/proc/self/ns/net", O_RDONLY, true, "bind source 1 is on nsfs"},
  };
  for (const Case& c : cases) {
    const std::string label = std::string(c.path) + (c.bind_source ? " as a bind source" : " as a passed fd");
    INFO(label);
    absl::Status refused = AsUser([&](int sock) -> absl::Status {
      UniqueFd fd(open(c.path, c.flags | O_CLOEXEC));
      if (!fd) return ErrnoStatus(errno, c.path);
      SandboxBuilder builder;
      builder.Policy(*ParseDelegationPolicy("map_create", "array", "", ""));
      if (c.bind_source) builder.ReadOnlyBind(c.path, "/mnt");
      auto sandbox = builder.Build();
      if (!sandbox.ok()) return sandbox.status();
      const Command command = c.bind_source ? True() : True({5});
      const int raw = fd.get();
      if (absl::Status s = SendServiceRequest(
              sock, LaunchRequest(*sandbox, command, c.bind_source ? 1 : 0, c.bind_source ? 0 : 1),
              {raw});
          !s.ok()) {
        return s;
      }
      return Answer(sock);
    });
    INFO(refused.ToString());
    CHECK(Contains(Refusal(refused), c.refusal));
    CHECK(Contains(Refusal(refused), "sandbox set-up failed at 'tokenboxd's grant'"));
  }
}

TEST_CASE("Fds more or fewer than the request names, or none of its bytes, are refused") {
  TB_REQUIRE_WORLD();
  absl::Status more = AsUser([](int sock) -> absl::Status {
    // The bytes name no fd; two come.
    const int fd = STDIN_FILENO;
    if (absl::Status s = SendServiceRequest(sock, LaunchRequest(ArrayMaps(), True(), 0, 0), {fd, fd});
        !s.ok()) {
      return s;
    }
    return Answer(sock);
  });
  CHECK(Contains(Refusal(more), "names 0 fds and carries 2"));
  absl::Status fewer = AsUser([](int sock) -> absl::Status {
    if (absl::Status s = SendServiceRequest(sock, LaunchRequest(ArrayMaps(), True({5}), 0, 1), {});
        !s.ok()) {
      return s;
    }
    return Answer(sock);
  });
  CHECK(Contains(Refusal(fewer), "names 1 fds and carries 0"));
  absl::Status malformed = AsUser([](int sock) -> absl::Status {
    ServiceRequest request = LaunchRequest(ArrayMaps(), True(), 0, 0);
    request.sandbox = "not a sandbox";
    (void)SendServiceRequest(sock, request, {});
    return Answer(sock);
  });
  CHECK(Contains(Refusal(malformed), "malformed sandbox"));
  absl::Status huge = AsUser([](int sock) -> absl::Status {
    for (size_t sent = 0; sent <= kMaxServiceRequestBytes; sent += kMaxMessagePayload) {
      if (!SendFdMessage(sock, kServiceRequestPart, std::string(kMaxMessagePayload, 'x')).ok()) {
        break;
      }
    }
    return Answer(sock);
  });
  CHECK(Contains(Refusal(huge), "at most 1048576"));
  absl::Status wrong_kind = AsUser([](int sock) -> absl::Status {
    ServiceRequest request = LaunchRequest(ArrayMaps(), True(), 0, 0);
    request.kind = ServiceRequest::Kind::kLaunchInServer;
    (void)SendServiceRequest(sock, request, {STDIN_FILENO});
    return Answer(sock);
  });
  CHECK(Contains(Refusal(wrong_kind), "needs a fork server on the same connection first"));
  CHECK(world.daemon.running());
}

TEST_CASE("What no grant gives is refused: another's ids, tokenboxd's session or keyring, functions") {
  TB_REQUIRE_WORLD();
  auto refused_for = [](const Sandbox& sandbox, const Command& command) {
    return Refusal(AsUser([&](int sock) -> absl::Status {
      (void)SendServiceRequest(sock, LaunchRequest(sandbox, command, 0, 0), {});
      return Answer(sock);
    }));
  };
  auto build = [](SandboxBuilder builder) {
    builder.Policy(*ParseDelegationPolicy("map_create", "array", "", ""));
    auto sandbox = builder.Build();
    REQUIRE(sandbox.ok());
    return *sandbox;
  };
  CHECK(Contains(refused_for(build(SandboxBuilder().HostUser(1).HostGroup(1)), True()),
                 "no other ids are mapped"));
  CHECK(Contains(refused_for(build(SandboxBuilder().ShareSession()), True()),
                 "no session of yours to share"));
  CHECK(Contains(refused_for(build(SandboxBuilder().ShareSessionKeyring()), True()),
                 "session keyring is root's"));
  auto function = CommandBuilder().ForkServerFunction().Build();
  REQUIRE(function.ok());
  CHECK(Contains(refused_for(ArrayMaps(), *function), "tokenboxd runs programs"));
  // Beyond the grant: a delegated cgroup program with the host's cgroup namespace is refused by
  // the sandbox's own checks, and a map type the grant does not name by the grant.
  CHECK(Contains(refused_for(build(SandboxBuilder().KeepCapabilities(
                                 CapabilitySet::Of({CAP_SYS_ADMIN})).AllowSysAdmin()),
                             True()),
                 "caps 'cap_sys_admin' (--keep-caps) is not granted"));
}

TEST_CASE("Stalled, broken-off and abandoned requests are dropped, and nothing is left") {
  TB_REQUIRE_WORLD();
  // Connects and says nothing: dropped at the request timeout (1 s for this daemon).
  absl::Status stalled = AsUser([](int sock) -> absl::Status { return Answer(sock); });
  CHECK(Contains(Refusal(stalled), "sandbox set-up failed at 'ask tokenboxd'"));
  // Sends half a request, then goes away.
  TB_CHECK_OK(AsUser([](int sock) -> absl::Status {
    return SendFdMessage(sock, kServiceRequestPart, "half a request");
  }));
  // Sends a whole request and goes away before the sandbox starts: it is refused, as its caller
  // is gone, or started and ended at once.
  const std::string marker = absl::StrCat("tokenboxd-abandoned-", getpid());
  TB_CHECK_OK(AsUser([&](int sock) -> absl::Status {
    auto command = CommandBuilder().Program({"/bin/sh", "-c", "sleep 100; :", marker}).Build();
    if (!command.ok()) return command.status();
    return SendServiceRequest(sock, LaunchRequest(ArrayMaps(), *command, 0, 0), {});
  }));
  INFO(world.daemon.log());
  CHECK(world.daemon.AwaitLogOf({"the caller exited while its request was read",
                                 "the caller went away before it started"}) >= 0);
  for (pid_t pid : testing::ProcessesWithArgument(marker)) CHECK(testing::AwaitExit(pid));
  CHECK_FALSE(testing::ProcessWithArgument(marker));
  CHECK(testing::CgroupsMadeBy(world.daemon.pid()).empty());
  CHECK(testing::LeasesHeldBy(world.daemon.pid()).empty());
  CHECK(world.daemon.running());
}

TEST_CASE("One user holds at most 64 connections at once; the next is told why") {
  TB_REQUIRE_WORLD();
  absl::Status refused = AsUser([&](int) -> absl::Status {
    std::vector<UniqueFd> held;
    for (int i = 0; i < 63; ++i) held.push_back(Connect(TheWorld().daemon.socket()));
    UniqueFd one_more = Connect(TheWorld().daemon.socket());
    return Answer(one_more.get());
  });
  CHECK(Contains(Refusal(refused), "at most 64 sandboxes of one user at once"));
}

}  // namespace
}  // namespace tokenbox
