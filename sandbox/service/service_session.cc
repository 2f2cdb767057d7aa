#include "sandbox/service/service_session.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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
#include "sandbox/service/caller_checks.h"
#include "sandbox/setup_step.h"

namespace tokenbox {
namespace {

constexpr int kMaxLaunchesPerForkServer = 256;

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

absl::StatusOr<Sandbox> ServiceSession::GrantedSandbox(const ReceivedRequest& received,
                                                       const GrantPolicy& policy,
                                                       const Grant& grant) const {
  absl::StatusOr<Sandbox> sandbox = SandboxCodec::Decode(received.request.sandbox);
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
  return sandbox;
}

absl::Status ServiceSession::Launch(ReceivedRequest& received, const GrantPolicy& policy,
                                    const Grant& grant) {
  const ServiceRequest& request = received.request;
  absl::StatusOr<Sandbox> sandbox = GrantedSandbox(received, policy, grant);
  if (!sandbox.ok()) return sandbox.status();
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
  if (request.passed_fds != 0 || !request.command.empty()) {
    return SetupFailure(SetupStep::kAskService,
                        absl::InvalidArgumentError("a fork server's request carries no command"));
  }
  absl::StatusOr<Sandbox> sandbox = GrantedSandbox(received, policy, grant);
  if (!sandbox.ok()) return sandbox.status();
  if (!sandbox->namespaces().pid) {
    return SetupFailure(
        SetupStep::kServiceGrant,
        absl::PermissionDeniedError("a fork server tokenboxd starts gives each launch a pid "
                                    "namespace of its own: drop --no-unshare-pid"));
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
