#include "sandbox/service/service_session.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ns/errno_status.h"
#include "ns/fd_passing.h"
#include "ns/start_thread.h"
#include "ns/unique_fd.h"
#include "sandbox/child/child_setup.h"
#include "sandbox/command_codec.h"
#include "sandbox/fork_server.h"
#include "sandbox/host_resources/host_id_lease.h"
#include "sandbox/parent_setup.h"
#include "sandbox/protocol.h"
#include "sandbox/sandbox_codec.h"
#include "sandbox/setup_step.h"

namespace tokenbox {
namespace {

constexpr int kMaxLaunchesPerForkServer = 256;

// Filesystems whose files hand a sandbox more than the caller's own access to them would: a
// namespace (sk_lookup links to any network namespace it can name), a cgroup (cgroup programs
// attach to any it can open), pinned BPF objects, the host's terminals, the kernel's tracing and
// configuration. A bind source or a passed fd on one is refused.
struct KernelFilesystem {
  long magic;
  const char* name;
};
constexpr KernelFilesystem kKernelFilesystems[] = {
    {NSFS_MAGIC, "nsfs"},         {PROC_SUPER_MAGIC, "proc"},     {CGROUP_SUPER_MAGIC, "cgroup"},
    {CGROUP2_SUPER_MAGIC, "cgroup2"}, {BPF_FS_MAGIC, "bpf"},      {SYSFS_MAGIC, "sysfs"},
    {TRACEFS_MAGIC, "tracefs"},   {DEBUGFS_MAGIC, "debugfs"},     {SECURITYFS_MAGIC, "securityfs"},
};

// Why `fd` may not be handed to a sandbox, as `what`; empty when it may. `devpts_ok`: a
// terminal of the caller's, as stdio, may be.
std::string WhyNotHandOver(int fd, absl::string_view what, bool directory_ok, bool devpts_ok) {
  struct stat st;
  struct statfs fs;
  if (fstat(fd, &st) != 0 || fstatfs(fd, &fs) != 0) {
    return absl::StrCat(what, " cannot be examined (", ErrnoName(errno), ")");
  }
  for (const KernelFilesystem& kernel : kKernelFilesystems) {
    if (fs.f_type == kernel.magic) {
      return absl::StrCat(what, " is on ", kernel.name,
                          ", whose files would give the sandbox more than your access to them");
    }
  }
  if (!devpts_ok && fs.f_type == DEVPTS_SUPER_MAGIC) {
    return absl::StrCat(what, " is a terminal of the host's devpts");
  }
  if (S_ISDIR(st.st_mode) && !directory_ok) {
    return absl::StrCat(what, " is a directory, from which a path reaches the whole host: bind "
                              "it instead (--bind, --ro-bind)");
  }
  if (directory_ok && !S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
    return absl::StrCat(what, " is neither a directory nor a regular file");
  }
  return "";
}

// The resource limits the caller has: a sandbox it asks for starts with them, so that tokenboxd
// is no way around them. Read from the kernel (/proc/PID/limits, a line per RLIMIT_* in their
// order, as fs/proc/base.c prints them), and checked to be the caller's while read.
absl::StatusOr<std::vector<ResourceLimit>> CallerLimits(const Peer& peer) {
  const std::string path = absl::StrCat("/proc/", peer.pid, "/limits");
  std::string text;
  if (UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC)); fd) {
    char buffer[4096];
    for (ssize_t n; (n = read(fd.get(), buffer, sizeof(buffer))) > 0;) text.append(buffer, n);
  }
  if (syscall(SYS_pidfd_send_signal, peer.pidfd.get(), 0, nullptr, 0) != 0) {
    return absl::FailedPreconditionError("the caller exited while its request was read");
  }
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  if (lines.size() != RLIM_NLIMITS + 1) {
    return absl::InternalError(absl::StrCat(path, " does not list ", RLIM_NLIMITS, " limits"));
  }
  auto value = [](absl::string_view field) -> std::optional<rlim_t> {
    field = absl::StripAsciiWhitespace(field);
    if (field == "unlimited") return RLIM_INFINITY;
    rlim_t number = 0;
    if (!absl::SimpleAtoi(field, &number)) return std::nullopt;
    return number;
  };
  std::vector<ResourceLimit> limits;
  for (int resource = 0; resource < RLIM_NLIMITS; ++resource) {
    const absl::string_view line = lines[static_cast<size_t>(resource) + 1];
    std::optional<rlim_t> soft = line.size() > 46 ? value(line.substr(26, 21)) : std::nullopt;
    std::optional<rlim_t> hard = line.size() > 67 ? value(line.substr(47, 21)) : std::nullopt;
    if (!soft.has_value() || !hard.has_value()) {
      return absl::InternalError(absl::StrCat(path, ": cannot read '", Printable(line), "'"));
    }
    limits.push_back({resource, *soft, *hard});
  }
  return limits;
}

// What a sandbox asked for and not granted whatever the policy: what tokenboxd's launch cannot
// give a caller, or gives only to root.
absl::Status CheckWhatNoGrantGives(const Sandbox& sandbox, const Peer& peer) {
  auto own_or_leased = [](const std::optional<IdMap>& map, uint32_t own) {
    return !map.has_value() || (map->ranges().size() == 1 && map->ranges()[0].inside == 0 &&
                                map->ranges()[0].outside == own && map->ranges()[0].count == 1);
  };
  if (!own_or_leased(sandbox.uid_map(), peer.uid) || !own_or_leased(sandbox.gid_map(), peer.gid)) {
    return absl::PermissionDeniedError(
        "a sandbox tokenboxd starts is a host uid leased for it, or yours (--uid=self, "
        "--gid=self): no other ids are mapped for a caller who is not root");
  }
  if (sandbox.shares_session()) {
    return absl::PermissionDeniedError(
        "a sandbox tokenboxd starts has no session of yours to share: drop --share-session");
  }
  if (sandbox.shares_session_keyring()) {
    return absl::PermissionDeniedError(
        "tokenboxd's session keyring is root's: drop --share-keyring");
  }
  return absl::OkStatus();
}

absl::Status CheckFds(const ReceivedRequest& received, size_t first_bind_source) {
  const ServiceRequest& request = received.request;
  for (size_t i = 0; i < received.fds.size(); ++i) {
    const bool bind_source = i >= first_bind_source && i < first_bind_source + request.bind_sources;
    if (i < first_bind_source) continue;  // A launch's own socket, checked where it is used.
    const std::string why =
        bind_source
            ? WhyNotHandOver(received.fds[i].get(),
                             absl::StrCat("bind source ", i - first_bind_source + 1),
                             /*directory_ok=*/true, /*devpts_ok=*/false)
            : WhyNotHandOver(received.fds[i].get(),
                             absl::StrCat("passed fd ", i - first_bind_source - request.bind_sources + 1),
                             /*directory_ok=*/false, /*devpts_ok=*/true);
    if (!why.empty()) return absl::PermissionDeniedError(why);
  }
  return absl::OkStatus();
}

std::vector<int> Raw(const std::vector<UniqueFd>& fds, size_t from, size_t count) {
  std::vector<int> raw;
  for (size_t i = from; i < from + count; ++i) raw.push_back(fds[i].get());
  return raw;
}

std::string DescribeCommand(const Command& command) {
  std::vector<std::string> shown;
  for (const std::string& arg : command.argv()) shown.push_back(Printable(arg, 64));
  if (shown.size() > 8) {
    shown.resize(8);
    shown.push_back("...");
  }
  return absl::StrJoin(shown, " ");
}

bool IsSeqpacketSocket(int fd) {
  int type = 0, domain = 0;
  socklen_t length = sizeof(type);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) != 0) return false;
  length = sizeof(domain);
  return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) == 0 && type == SOCK_SEQPACKET &&
         domain == AF_UNIX;
}

}  // namespace

absl::StatusOr<Peer> PeerOf(int connection) {
  ucred cred = {};
  socklen_t length = sizeof(cred);
  if (getsockopt(connection, SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0) {
    return ErrnoStatus(errno, "getsockopt(SO_PEERCRED)");
  }
  Peer peer;
  peer.pid = cred.pid;
  peer.uid = cred.uid;
  peer.gid = cred.gid;
  int pidfd = -1;
  length = sizeof(pidfd);
  if (getsockopt(connection, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &length) == 0 && pidfd >= 0) {
    peer.pidfd = UniqueFd(pidfd);
  } else {
    peer.pidfd = UniqueFd(static_cast<int>(syscall(SYS_pidfd_open, cred.pid, 0)));
  }
  if (!peer.pidfd) return ErrnoStatus(errno, "pidfd of the caller");
  peer.user = UserName(cred.uid);
  return peer;
}

void ServiceSession::Serve(UniqueFd connection, const ServiceConfig& config) {
  absl::StatusOr<Peer> peer = PeerOf(connection.get());
  if (!peer.ok()) {
    (void)SendFdMessage(connection.get(), kServiceRefused,
                        EncodeSetupFailure(SetupFailure(SetupStep::kAskService, peer.status())));
    if (config.log) config.log(absl::StrCat("a caller tokenboxd cannot name: ", peer.status().message()));
    return;
  }
  ServiceSession session(std::move(connection), *std::move(peer), config);
  absl::StatusOr<ReceivedRequest> received = ReceiveServiceRequest(
      session.connection_.get(), config.request_timeout, config.request_timeout);
  if (!received.ok()) {
    session.Refuse(session.connection_.get(),
                   SetupFailure(SetupStep::kAskService, received.status()), "a request");
    return;
  }
  session.ServeRequest(*std::move(received));
}

void ServiceSession::ServeRequest(ReceivedRequest received) {
  const char* what = received.request.kind == ServiceRequest::Kind::kForkServer ? "a fork server"
                     : received.request.kind == ServiceRequest::Kind::kLaunch   ? "a launch"
                     : received.request.kind == ServiceRequest::Kind::kShowGrant
                         ? "what it is granted"
                         : "a fork-server launch";
  if (received.request.kind == ServiceRequest::Kind::kLaunchInServer) {
    return Refuse(connection_.get(),
                  SetupFailure(SetupStep::kAskService,
                               absl::InvalidArgumentError("a fork-server launch needs a fork server "
                                                          "on the same connection first")),
                  what);
  }
  // Read for each request: an edit takes effect at the next one, with no restart.
  absl::StatusOr<GrantPolicy> policy = GrantPolicy::Read(config_.policy_path);
  if (!policy.ok()) {
    return Refuse(connection_.get(), SetupFailure(SetupStep::kServiceGrant, policy.status()), what);
  }
  const Grant grant = policy->For(peer_.uid);
  if (received.request.kind == ServiceRequest::Kind::kShowGrant) {
    const ServiceGrant shown{policy->path(), grant.lines, grant.policy, grant.caps,
                             grant.host_tracing};
    (void)SendFdMessage(connection_.get(), kServiceGrantIs, EncodeServiceGrant(shown));
    return Ask("what it is granted").Log(FormatDelegationPolicy(grant.policy));
  }
  absl::Status served = received.request.kind == ServiceRequest::Kind::kLaunch
                            ? Launch(received, *policy, grant)
                            : StartForkServer(received, *policy, grant);
  if (!served.ok()) Refuse(connection_.get(), served, what);
}

absl::Status ServiceSession::Launch(ReceivedRequest& received, const GrantPolicy& policy,
                                    const Grant& grant) {
  const ServiceRequest& request = received.request;
  absl::StatusOr<Sandbox> sandbox = SandboxCodec::Decode(request.sandbox);
  if (!sandbox.ok()) return SetupFailure(SetupStep::kAskService, sandbox.status());
  if (absl::Status s = policy.Check(grant, *sandbox, peer_.user); !s.ok()) {
    return SetupFailure(SetupStep::kServiceGrant, s);
  }
  if (absl::Status s = CheckWhatNoGrantGives(*sandbox, peer_); !s.ok()) {
    return SetupFailure(SetupStep::kServiceGrant, s);
  }
  if (absl::Status s = CheckFds(received, 0); !s.ok()) {
    return SetupFailure(SetupStep::kServiceGrant, s);
  }
  std::vector<UniqueFd> passed;
  for (size_t i = request.bind_sources; i < received.fds.size(); ++i) {
    passed.push_back(std::move(received.fds[i]));
  }
  absl::StatusOr<Command> command = CommandCodec::Decode(request.command, std::move(passed));
  if (!command.ok()) return SetupFailure(SetupStep::kAskService, command.status());
  if (command->kind() != Command::Kind::kProgram) {
    return SetupFailure(SetupStep::kServiceGrant,
                        absl::InvalidArgumentError("tokenboxd runs programs: a function cannot "
                                                   "cross into its process"));
  }
  absl::StatusOr<std::vector<ResourceLimit>> limits = CallerLimits(peer_);
  if (!limits.ok()) return SetupFailure(SetupStep::kServiceGrant, limits.status());
  OnBehalfOf on_behalf_of{peer_.uid, peer_.gid, Raw(received.fds, 0, request.bind_sources),
                          *limits};
  // --verbose prints on the caller's stderr, as a root launch prints on its own.
  LaunchOptions options = config_.launch;
  options.verbose = request.verbose;
  for (const PassedFd& passed_fd : command->passed_fds()) {
    if (passed_fd.target == STDERR_FILENO) on_behalf_of.progress_fd = passed_fd.fd->get();
  }
  absl::StatusOr<ParentSetup::Started> started = ParentSetup::Start(
      *sandbox, command->timeout(), CallerStdio(), options,
      command->own_terminal().has_value() ? ExpectedStart::kProgramWithOwnTerminal
                                          : ExpectedStart::kProgram,
      [&](const Sandbox& leased, UniqueFd sock, const ChildContext& context) {
        RunSandboxChild(leased, *command, context, std::move(sock));
      },
      &on_behalf_of);
  if (!started.ok()) return started.status();
  // The bind sources are in the sandbox's view now; the daemon keeps no more of the caller's.
  received.fds.clear();
  Child& child = started->child;
  const uint32_t host_uid = started->host_ids ? started->host_ids->id() : sandbox->host_uid();
  // The Child holds them too, and gives them back as soon as the sandbox is reaped.
  started->host_ids.reset();
  started->cgroup.reset();
  UniqueFd terminal = child.TakeTerminal();
  const ServiceStart start{child.pid(), host_uid, terminal.valid()};
  std::vector<int> fds = {child.pidfd()};
  if (terminal) fds.push_back(terminal.get());
  const Asked asked = Ask(absl::StrCat("run ", DescribeCommand(*command), " [",
                                       FormatDelegationPolicy(sandbox->policy()), "]"));
  if (absl::Status s = SendFdMessage(connection_.get(), kServiceStarted, EncodeServiceStart(start), fds);
      !s.ok()) {
    (void)child.Kill();
    (void)child.Wait();
    asked.Log(absl::StrCat("granted; the caller went away before it started, and it was ended: ",
                           s.message()));
    return absl::OkStatus();
  }
  asked.Log(absl::StrCat("granted: sandbox pid ", child.pid(), ", host uid ", host_uid));
  Relay(connection_.get(), child, asked);
  return absl::OkStatus();
}

absl::Status ServiceSession::StartForkServer(ReceivedRequest& received, const GrantPolicy& policy,
                                             const Grant& grant) {
  const ServiceRequest& request = received.request;
  absl::StatusOr<Sandbox> sandbox = SandboxCodec::Decode(request.sandbox);
  if (!sandbox.ok()) return SetupFailure(SetupStep::kAskService, sandbox.status());
  if (absl::Status s = policy.Check(grant, *sandbox, peer_.user); !s.ok()) {
    return SetupFailure(SetupStep::kServiceGrant, s);
  }
  if (absl::Status s = CheckWhatNoGrantGives(*sandbox, peer_); !s.ok()) {
    return SetupFailure(SetupStep::kServiceGrant, s);
  }
  if (request.passed_fds != 0 || !request.command.empty()) {
    return SetupFailure(SetupStep::kAskService,
                        absl::InvalidArgumentError("a fork server's request carries no command"));
  }
  if (!sandbox->namespaces().pid) {
    return SetupFailure(
        SetupStep::kServiceGrant,
        absl::PermissionDeniedError("a fork server tokenboxd starts gives each launch a pid "
                                    "namespace of its own: drop --no-unshare-pid"));
  }
  if (absl::Status s = CheckFds(received, 0); !s.ok()) {
    return SetupFailure(SetupStep::kServiceGrant, s);
  }
  absl::StatusOr<std::vector<ResourceLimit>> limits = CallerLimits(peer_);
  if (!limits.ok()) return SetupFailure(SetupStep::kServiceGrant, limits.status());
  const OnBehalfOf on_behalf_of{peer_.uid, peer_.gid, Raw(received.fds, 0, request.bind_sources),
                                *limits};
  ForkServerOptions options;
  options.launch = config_.launch;
  absl::StatusOr<std::unique_ptr<ForkServer>> server =
      ForkServer::Start(*sandbox, std::move(options), &on_behalf_of);
  if (!server.ok()) return server.status();
  received.fds.clear();
  const Asked asked =
      Ask(absl::StrCat("fork server [", FormatDelegationPolicy(sandbox->policy()), "]"));
  const uint32_t host_uid =
      (*server)->host_ids_ ? (*server)->host_ids_->id() : sandbox->host_uid();
  const ServiceStart start{(*server)->zygote_pid(), host_uid, false};
  const int zygote_pidfd = (*server)->zygote_.pidfd();
  if (absl::Status s = SendFdMessage(connection_.get(), kServiceStarted, EncodeServiceStart(start),
                                     {&zygote_pidfd, 1});
      !s.ok()) {
    return absl::OkStatus();
  }
  asked.Log(absl::StrCat("granted: zygote pid ", start.pid));
  // Launches running, each on a thread of tokenboxd's: bounded, as the caller could start many.
  auto running = std::make_shared<std::atomic<int>>(0);
  for (;;) {
    absl::StatusOr<ReceivedRequest> next = ReceiveServiceRequest(
        connection_.get(), absl::InfiniteDuration(), config_.request_timeout);
    if (!next.ok()) break;  // The caller closed the fork server (or broke its protocol).
    if (next->request.kind != ServiceRequest::Kind::kLaunchInServer || next->fds.empty() ||
        !IsSeqpacketSocket(next->fds[0].get()) || next->request.bind_sources != 0) {
      Refuse(connection_.get(),
             SetupFailure(SetupStep::kAskService,
                          absl::InvalidArgumentError("a fork server takes launches, each with a "
                                                     "socket of its own and no bind sources")),
             "a fork-server launch");
      break;
    }
    UniqueFd channel = std::move(next->fds[0]);
    if (running->load() >= kMaxLaunchesPerForkServer) {
      Refuse(channel.get(),
             SetupFailure(SetupStep::kServiceGrant,
                          absl::ResourceExhaustedError(absl::StrCat(
                              "a fork server tokenboxd started runs at most ",
                              kMaxLaunchesPerForkServer, " launches at once"))),
             "a fork-server launch");
      continue;
    }
    if (absl::Status s = CheckFds(*next, 1); !s.ok()) {
      Refuse(channel.get(), SetupFailure(SetupStep::kServiceGrant, s), "a fork-server launch");
      continue;
    }
    std::vector<UniqueFd> passed;
    for (size_t i = 1; i < next->fds.size(); ++i) passed.push_back(std::move(next->fds[i]));
    absl::StatusOr<Command> command = CommandCodec::Decode(next->request.command, std::move(passed));
    if (command.ok() && command->kind() != Command::Kind::kProgram) {
      command = absl::InvalidArgumentError("tokenboxd runs programs: a function cannot cross "
                                           "into its process");
    }
    if (!command.ok()) {
      Refuse(channel.get(), SetupFailure(SetupStep::kAskService, command.status()),
             "a fork-server launch");
      continue;
    }
    absl::StatusOr<Child> child = (*server)->Launch(*command);
    if (!child.ok()) {
      Refuse(channel.get(), child.status(), "a fork-server launch");
      continue;
    }
    // Each launch is served on its own socket, for as long as it runs: the fork server may end
    // before it does.
    Asked launch = asked;
    launch.what = absl::StrCat(asked.what, ": run ", DescribeCommand(*command));
    running->fetch_add(1);
    // Shared, so that a launch no thread can serve is still ended and refused here.
    struct Served {
      UniqueFd channel;
      Child child;
      Asked launch;
    };
    auto served = std::make_shared<Served>(
        Served{std::move(channel), *std::move(child), std::move(launch)});
    absl::StatusOr<std::thread> serving = StartThread([host_uid, running, served] {
      UniqueFd terminal = served->child.TakeTerminal();
      const ServiceStart start{served->child.pid(), host_uid, terminal.valid()};
      std::vector<int> fds = {served->child.pidfd()};
      if (terminal) fds.push_back(terminal.get());
      if (SendFdMessage(served->channel.get(), kServiceStarted, EncodeServiceStart(start), fds)
              .ok()) {
        Relay(served->channel.get(), served->child, served->launch);
      }
      running->fetch_sub(1);
    });
    if (!serving.ok()) {
      running->fetch_sub(1);
      (void)served->child.Kill();
      (void)served->child.Wait();
      Refuse(served->channel.get(), SetupFailure(SetupStep::kAskService, serving.status()),
             "a fork-server launch");
      continue;
    }
    serving->detach();
  }
  server->reset();
  // The zygote's end, which the caller's fork server waits for when it is destroyed.
  (void)SendFdMessage(connection_.get(), kServiceEnded,
                      EncodeServiceEnd({ExitStatus::Signaled(SIGKILL), rusage{}}));
  asked.Log("ended");
  return absl::OkStatus();
}

void ServiceSession::Relay(int channel, Child& child, const Asked& asked) {
  // The caller's side, read on a thread of its own: Wait() holds the command's deadline here.
  // Without that thread nothing would end the sandbox when the caller goes: it is ended now.
  absl::StatusOr<std::thread> caller = StartThread([&] {
    for (;;) {
      absl::StatusOr<FdMessage> message = ReceiveFdMessage(channel);
      if (!message.ok() || message->type == kServiceKill) {
        (void)child.Kill();  // A caller that closes or dies ends its sandbox.
        return;
      }
      if (message->type == kServiceSignal) {
        absl::StatusOr<int> sig = DecodeSignal(message->payload);
        if (sig.ok()) (void)syscall(SYS_pidfd_send_signal, child.pidfd(), *sig, nullptr, 0);
      }
    }
  });
  if (!caller.ok()) {
    asked.Log(absl::StrCat("ending it: no thread to relay for it: ", caller.status().message()));
    (void)child.Kill();
  }
  absl::StatusOr<ExitStatus> status = child.Wait();
  if (status.ok()) {
    const ServiceEnd end{*status, child.resource_usage().value_or(rusage{})};
    (void)SendFdMessage(channel, kServiceEnded, EncodeServiceEnd(end));
    asked.Log(absl::StrCat("ended: ", status->ToString()));
  } else {
    asked.Log(absl::StrCat("ended, and could not be waited for: ", status.status().message()));
  }
  shutdown(channel, SHUT_RDWR);  // Ends the reader above.
  if (caller.ok()) caller->join();
}

void ServiceSession::Refuse(int channel, const absl::Status& failure,
                            const std::string& what) const {
  (void)SendFdMessage(channel, kServiceRefused, EncodeSetupFailure(failure));
  Ask(what).Log(absl::StrCat("refused: ", failure.message()));
}

ServiceSession::Asked ServiceSession::Ask(std::string what) const {
  return Asked{absl::StrCat("uid ", peer_.uid, " (", Printable(peer_.user), ") pid ", peer_.pid),
               std::move(what), config_.log};
}

void ServiceSession::Asked::Log(absl::string_view outcome) const {
  if (log) log(absl::StrCat(who, ": ", what, ": ", outcome));
}

}  // namespace tokenbox
