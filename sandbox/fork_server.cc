#include "sandbox/fork_server.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/fd_passing.h"
#include "ns/monotonic_clock.h"
#include "ns/write_all.h"
#include "sandbox/child/child_setup.h"
#include "sandbox/child/zygote.h"
#include "sandbox/child_process.h"
#include "sandbox/child_start.h"
#include "sandbox/command_codec.h"
#include "sandbox/host_resources/host_id_lease.h"
#include "sandbox/host_resources/sandbox_cgroup.h"
#include "sandbox/parent_setup.h"
#include "sandbox/protocol.h"
#include "sandbox/sandbox_codec.h"
#include "sandbox/service/service_client.h"
#include "sandbox/setup_progress.h"
#include "token/process_capabilities.h"

namespace tokenbox {
namespace {

// The encoded command goes in a memfd: an environment easily outgrows one message.
absl::StatusOr<UniqueFd> CommandMemfd(const std::string& bytes) {
  UniqueFd memfd(memfd_create("tokenbox-command", MFD_CLOEXEC));
  if (!memfd) return ErrnoStatus(errno, "memfd_create");
  if (absl::Status s = WriteAll(memfd.get(), bytes, "command memfd"); !s.ok()) return s;
  return memfd;
}

// Moves a launch into its own cgroup and tells it so; else the best account of why not.
absl::Status MoveIntoCgroup(const SandboxCgroup& cgroup, pid_t pid, int report_sock) {
  absl::Status moved = cgroup.MoveIn(pid);
  if (moved.ok()) moved = SendFdMessage(report_sock, kMovedToLaunchCgroup);
  if (moved.ok()) return moved;
  // A child that failed a step of its own has gone already, and its report says more.
  absl::StatusOr<StartedAs> reported = AwaitStart(report_sock, absl::ZeroDuration());
  if (!reported.ok() && SetupStepOf(reported.status()) != SetupStep::kWaitForStart) {
    return reported.status();
  }
  return SetupFailure(SetupStep::kMoveIntoLaunchCgroup, moved);
}

}  // namespace

ForkServer::ForkServer(Child zygote, UniqueFd sock, std::shared_ptr<const HostIdLease> host_ids,
                       std::shared_ptr<const SandboxCgroup> cgroup, bool pid_namespace_per_launch,
                       const ForkServerOptions& options)
    : zygote_(std::move(zygote)),
      sock_(std::move(sock)),
      host_ids_(std::move(host_ids)),
      cgroup_(std::move(cgroup)),
      cgroup_per_launch_(cgroup_ != nullptr && cgroup_->dir_fd() >= 0 && !pid_namespace_per_launch),
      pid_namespace_per_launch_(pid_namespace_per_launch),
      launch_options_(options.launch),
      has_function_(static_cast<bool>(options.function)) {}

absl::StatusOr<std::unique_ptr<ForkServer>> ForkServer::Start(const Sandbox& sandbox,
                                                              ForkServerOptions options) {
  if (!WhyCannotDelegate().empty()) return StartThroughService(sandbox, options);
  return Start(sandbox, std::move(options), nullptr);
}

absl::StatusOr<std::unique_ptr<ForkServer>> ForkServer::StartThroughService(
    const Sandbox& sandbox, const ForkServerOptions& options) {
  if (options.function) {
    return SetupFailure(SetupStep::kAskService,
                        absl::InvalidArgumentError(
                            "a launcher that is not root has tokenboxd prepare the fork server, "
                            "and a function cannot cross into tokenboxd's process"));
  }
  absl::StatusOr<UniqueFd> sock = ConnectToService(options.launch);
  if (!sock.ok()) return SetupFailure(SetupStep::kAskService, sock.status());
  absl::StatusOr<std::vector<UniqueFd>> sources = OpenBindSourcesAsCaller(sandbox);
  if (!sources.ok()) return SetupFailure(SetupStep::kOpenBindSources, sources.status());
  ServiceRequest request;
  request.kind = ServiceRequest::Kind::kForkServer;
  request.sandbox = SandboxCodec::Encode(sandbox);
  request.bind_sources = static_cast<uint32_t>(sources->size());
  std::vector<int> fds;
  for (const UniqueFd& source : *sources) fds.push_back(source.get());
  if (absl::Status s = SendRequestToService(sock->get(), request, fds); !s.ok()) return s;
  absl::StatusOr<ServiceStarted> zygote = AwaitServiceStart(sock->get(), options.launch.setup_timeout);
  if (!zygote.ok()) return zygote.status();
  // The zygote is served on the connection: ending its Child ends the fork server.
  const int service = sock->get();
  Child child = ServiceChild(*std::move(zygote), *std::move(sock), std::nullopt, CallerStdio());
  auto server = std::unique_ptr<ForkServer>(new ForkServer(
      std::move(child), UniqueFd(), nullptr, nullptr, /*pid_namespace_per_launch=*/true, options));
  server->through_service_ = true;
  server->service_fd_ = service;
  return server;
}

absl::StatusOr<Child> ForkServer::LaunchThroughService(const Command& command) {
  const absl::Duration started = MonotonicNow();
  if (command.kind() != Command::Kind::kProgram) {
    return absl::InvalidArgumentError(
        "this fork server was prepared by tokenboxd, which runs programs: a function cannot "
        "cross into its process");
  }
  absl::StatusOr<SocketPair> channel = MakeSocketPair();
  if (!channel.ok()) return SetupFailure(SetupStep::kSendLaunchRequest, channel.status());
  const CommandForService encoded = EncodeCommandForService(command);
  ServiceRequest request;
  request.kind = ServiceRequest::Kind::kLaunchInServer;
  request.command = encoded.bytes;
  request.passed_fds = static_cast<uint32_t>(encoded.fds.size());
  std::vector<int> fds = {channel->child.get()};
  fds.insert(fds.end(), encoded.fds.begin(), encoded.fds.end());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (absl::Status s = SendServiceRequest(service_fd_, request, fds); !s.ok()) {
      return SetupFailure(SetupStep::kSendLaunchRequest, s);
    }
  }
  channel->child.Reset();
  absl::StatusOr<ServiceStarted> start =
      AwaitServiceStart(channel->parent.get(), launch_options_.setup_timeout);
  if (!start.ok()) return start.status();
  return ServiceChild(*std::move(start), std::move(channel->parent),
                      LaunchDeadline(started, command.timeout()), CallerStdio::SharedWith(command));
}

absl::StatusOr<std::unique_ptr<ForkServer>> ForkServer::Start(const Sandbox& sandbox,
                                                              ForkServerOptions options,
                                                              const OnBehalfOf* on_behalf_of) {
  absl::StatusOr<ParentSetup::Started> started = ParentSetup::Start(
      sandbox, /*timeout=*/std::nullopt, CallerStdio::All(), options.launch,
      ExpectedStart::kZygote,
      [&](const Sandbox& leased, UniqueFd sock, const ChildContext& context) {
        RunPreparedSandbox(leased, context, std::move(sock),
                           [&](SetupReporter& reporter, UniqueFd token) {
                             ServeLaunches(leased, options.function, context, reporter,
                                           std::move(token));
                           });
      },
      on_behalf_of);
  if (!started.ok()) return started.status();
  return std::unique_ptr<ForkServer>(new ForkServer(
      std::move(started->child), std::move(started->sock), std::move(started->host_ids),
      std::move(started->cgroup), sandbox.namespaces().pid, options));
}

ForkServer::~ForkServer() {
  sock_.Reset();  // The zygote exits when its socket closes; ~Child kills and reaps it anyway.
}

absl::StatusOr<Child> ForkServer::Launch(const Command& command) {
  if (through_service_) return LaunchThroughService(command);
  const LauncherSteps steps(launch_options_.verbose ? STDERR_FILENO : -1, MonotonicNow());
  const absl::Duration setup_timeout = launch_options_.setup_timeout;
  if (command.kind() == Command::Kind::kFunction) {
    return absl::InvalidArgumentError(
        "a function cannot be carried into the prepared sandbox: give it to ForkServer::Start, "
        "and launch CommandBuilder().ForkServerFunction()");
  }
  if (command.kind() == Command::Kind::kForkServerFunction && !has_function_) {
    return absl::InvalidArgumentError(
        "this fork server was started without a function, and a callable cannot be carried "
        "into the prepared sandbox: give it to ForkServer::Start");
  }
  if (command.passed_fds().size() + 2 > kMaxMessageFds) {
    return absl::InvalidArgumentError(absl::StrCat("a fork-server launch passes at most ",
                                                   kMaxMessageFds - 2, " fds"));
  }
  std::shared_ptr<const SandboxCgroup> cgroup = cgroup_;
  if (cgroup_per_launch_) {
    absl::StatusOr<std::shared_ptr<const SandboxCgroup>> own = SandboxCgroup::CreateBelow(cgroup_);
    if (!own.ok()) return SetupFailure(SetupStep::kCreateLaunchCgroup, own.status());
    cgroup = *std::move(own);
  }
  absl::StatusOr<UniqueFd> request = CommandMemfd(CommandCodec::Encode(command));
  if (!request.ok()) return SetupFailure(SetupStep::kSendLaunchRequest, request.status());
  absl::StatusOr<SocketPair> report = MakeSocketPair();
  if (!report.ok()) return SetupFailure(SetupStep::kSendLaunchRequest, report.status());
  std::vector<int> fds = {request->get(), report->child.get()};
  // With a pid namespace per launch, the launch is its pid 1, and reports through this pipe.
  UniqueFd program_status, program_status_writer;
  if (pid_namespace_per_launch_) {
    absl::StatusOr<Pipe> pipe = MakeProgramStatusPipe();
    if (!pipe.ok()) return SetupFailure(SetupStep::kSendLaunchRequest, pipe.status());
    program_status = std::move(pipe->read_end);
    program_status_writer = std::move(pipe->write_end);
    fds.push_back(program_status_writer.get());
  }
  for (const PassedFd& passed : command.passed_fds()) fds.push_back(passed.fd->get());

  pid_t pid = -1;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const LaunchRequest launch{steps.started(), cgroup_per_launch_};
    if (absl::Status s = SendFdMessage(sock_.get(), kZygoteLaunch, EncodeLaunchRequest(launch), fds);
        !s.ok()) {
      return SetupFailure(SetupStep::kSendLaunchRequest, s);
    }
    absl::StatusOr<FdMessage> reply =
        ReceiveExpected(sock_.get(), kZygoteLaunched, 0, setup_timeout);
    if (!reply.ok()) return SetupFailure(SetupStep::kReceiveLaunchReply, reply.status());
    absl::StatusOr<pid_t> launched = DecodePid(reply->payload);
    if (!launched.ok()) return SetupFailure(SetupStep::kReceiveLaunchReply, launched.status());
    pid = *launched;
  }
  report->child.Reset();
  program_status_writer.Reset();
  auto process = std::make_unique<ChildProcess>();
  process->pid = pid;
  process->kill_process_group = true;
  process->deadline = LaunchDeadline(steps.started(), command.timeout());
  process->caller_stdio = CallerStdio::SharedWith(command);
  process->host_ids = host_ids_;
  process->cgroup = cgroup;
  process->program_status = std::move(program_status);
  return ChildStart::Await(
      steps, std::move(process), /*shares_callers_terminal=*/false, report->parent.get(),
      command.own_terminal().has_value() ? ExpectedStart::kProgramWithOwnTerminal
                                         : ExpectedStart::kProgram,
      setup_timeout, [&]() -> absl::Status {
        if (!cgroup_per_launch_) return absl::OkStatus();
        return MoveIntoCgroup(*cgroup, pid, report->parent.get());
      });
}

}  // namespace tokenbox
