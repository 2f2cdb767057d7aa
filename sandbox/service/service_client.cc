#include "sandbox/service/service_client.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "ns/fd_passing.h"
#include "ns/monotonic_clock.h"
#include "sandbox/child/bind_source.h"
#include "sandbox/child_process.h"
#include "sandbox/child_start.h"
#include "sandbox/command_codec.h"
#include "sandbox/protocol.h"
#include "sandbox/sandbox_codec.h"
#include "sandbox/setup_step.h"

namespace tokenbox {

std::string ServiceSocketPath(const LaunchOptions& options) {
  if (!options.service_socket.empty()) return options.service_socket;
  const char* from_environment = getenv("TOKENBOX_SERVICE_SOCKET");
  if (from_environment != nullptr && from_environment[0] != '\0') return from_environment;
  return kDefaultServiceSocket;
}

absl::StatusOr<UniqueFd> ConnectToService(const LaunchOptions& options) {
  const std::string path = ServiceSocketPath(options);
  const std::string remedy = absl::StrCat(
      "tokenbox is not root here (a launcher needs CAP_SYS_ADMIN in the initial user namespace to "
      "delegate a bpffs), so it asks tokenboxd, which does not answer at ", path,
      ": run as root, or ask the administrator to start tokenboxd (tools/dev install) and grant "
      "you a line in /etc/tokenbox/delegation.conf");
  sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("tokenboxd's socket path is empty or too long: ", Printable(path)));
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  UniqueFd sock(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!sock) return ErrnoStatus(errno, "socket(AF_UNIX, SOCK_SEQPACKET)");
  int connected;
  do {
    connected = connect(sock.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  } while (connected != 0 && errno == EINTR);
  if (connected != 0) {
    return ErrnoStatus(errno, absl::StrCat("connect(", Printable(path, 256), ")"), remedy);
  }
  return sock;
}

absl::StatusOr<std::vector<UniqueFd>> OpenBindSourcesAsCaller(const Sandbox& sandbox) {
  std::vector<UniqueFd> sources;
  for (const MountOperation& op : sandbox.filesystem().operations) {
    if (op.kind != MountOperation::Kind::kBind && op.kind != MountOperation::Kind::kReadOnlyBind) {
      continue;
    }
    absl::StatusOr<UniqueFd> source = OpenHostSource(op.source);
    if (!source.ok()) return source.status();
    sources.push_back(*std::move(source));
  }
  return sources;
}

CommandForService EncodeCommandForService(const Command& command) {
  CommandForService encoded;
  std::vector<int> stdio;
  if (!command.own_terminal().has_value()) {
    for (int fd : {0, 1, 2}) {
      bool replaced = false;
      for (const PassedFd& passed : command.passed_fds()) replaced = replaced || passed.target == fd;
      if (!replaced && fcntl(fd, F_GETFD) >= 0) stdio.push_back(fd);
    }
  }
  for (const PassedFd& passed : command.passed_fds()) encoded.fds.push_back(passed.fd->get());
  encoded.fds.insert(encoded.fds.end(), stdio.begin(), stdio.end());
  encoded.bytes = CommandCodec::Encode(command, stdio);
  return encoded;
}

absl::Status SendRequestToService(int sock, const ServiceRequest& request,
                                  const std::vector<int>& fds) {
  const absl::Status sent = SendServiceRequest(sock, request, fds);
  if (sent.ok()) return sent;
  // A refusal sent before the daemon closed is queued already; the bound is for none at all.
  absl::StatusOr<FdMessage> answered = ReceiveFdMessage(sock, absl::Milliseconds(100));
  if (answered.ok() && answered->type == kServiceRefused) {
    return DecodeSetupFailure(answered->payload);
  }
  return SetupFailure(SetupStep::kAskService, sent);
}

absl::StatusOr<ServiceStarted> AwaitServiceStart(int sock, absl::Duration timeout) {
  absl::StatusOr<FdMessage> reply = ReceiveFdMessage(sock, timeout);
  if (!reply.ok()) {
    return SetupFailure(SetupStep::kAskService,
                        IsPeerClosed(reply.status())
                            ? absl::UnavailableError("tokenboxd closed the connection without "
                                                     "an answer (see its log)")
                            : reply.status());
  }
  if (reply->type == kServiceRefused) return DecodeSetupFailure(reply->payload);
  if (reply->type != kServiceStarted || reply->fds.empty()) {
    return SetupFailure(SetupStep::kAskService,
                        absl::DataLossError(absl::StrCat("tokenboxd answered with message ",
                                                         reply->type)));
  }
  absl::StatusOr<ServiceStart> start = DecodeServiceStart(reply->payload);
  if (!start.ok()) return SetupFailure(SetupStep::kAskService, start.status());
  if (reply->fds.size() != (start->has_terminal ? 2u : 1u)) {
    return SetupFailure(SetupStep::kAskService,
                        absl::DataLossError("tokenboxd's start message has the wrong fds"));
  }
  ServiceStarted started{*start, std::move(reply->fds[0]), UniqueFd()};
  if (start->has_terminal) started.terminal = std::move(reply->fds[1]);
  return started;
}

Child ServiceChild(ServiceStarted started, UniqueFd channel, std::optional<absl::Duration> deadline,
                   CallerStdio caller_stdio) {
  auto process = std::make_unique<ChildProcess>();
  process->pid = started.start.pid;
  process->pidfd = std::move(started.pidfd);
  process->deadline = deadline;
  process->caller_stdio = std::move(caller_stdio);
  process->terminal = std::move(started.terminal);
  process->service = std::move(channel);
  return ChildStart::Adopt(std::move(process));
}

absl::StatusOr<ServiceGrant> AskServiceGrant(const LaunchOptions& options) {
  absl::StatusOr<UniqueFd> sock = ConnectToService(options);
  if (!sock.ok()) return sock.status();
  ServiceRequest request;
  request.kind = ServiceRequest::Kind::kShowGrant;
  if (absl::Status s = SendRequestToService(sock->get(), request, {}); !s.ok()) return s;
  absl::StatusOr<FdMessage> reply = ReceiveFdMessage(sock->get(), options.setup_timeout);
  if (!reply.ok()) return reply.status();
  if (reply->type == kServiceRefused) return DecodeSetupFailure(reply->payload);
  if (reply->type != kServiceGrantIs) {
    return absl::DataLossError(absl::StrCat("tokenboxd answered with message ", reply->type));
  }
  return DecodeServiceGrant(reply->payload);
}

absl::StatusOr<Child> LaunchThroughService(const Sandbox& sandbox, const Command& command,
                                           const LaunchOptions& options) {
  const absl::Duration started = MonotonicNow();
  if (command.kind() != Command::Kind::kProgram) {
    return SetupFailure(SetupStep::kAskService,
                        absl::InvalidArgumentError(
                            "a launcher that is not root has tokenboxd start its sandboxes, and "
                            "a function cannot cross into tokenboxd's process: launch a program"));
  }
  absl::StatusOr<UniqueFd> sock = ConnectToService(options);
  if (!sock.ok()) return SetupFailure(SetupStep::kAskService, sock.status());
  absl::StatusOr<std::vector<UniqueFd>> sources = OpenBindSourcesAsCaller(sandbox);
  if (!sources.ok()) return SetupFailure(SetupStep::kOpenBindSources, sources.status());
  const CommandForService encoded = EncodeCommandForService(command);
  ServiceRequest request;
  request.kind = ServiceRequest::Kind::kLaunch;
  request.sandbox = SandboxCodec::Encode(sandbox);
  request.command = encoded.bytes;
  request.bind_sources = static_cast<uint32_t>(sources->size());
  request.passed_fds = static_cast<uint32_t>(encoded.fds.size());
  request.verbose = options.verbose;
  std::vector<int> fds;
  for (const UniqueFd& source : *sources) fds.push_back(source.get());
  fds.insert(fds.end(), encoded.fds.begin(), encoded.fds.end());
  if (absl::Status s = SendRequestToService(sock->get(), request, fds); !s.ok()) return s;
  absl::StatusOr<ServiceStarted> start = AwaitServiceStart(sock->get(), options.setup_timeout);
  if (!start.ok()) return start.status();
  return ServiceChild(*std::move(start), *std::move(sock),
                      LaunchDeadline(started, command.timeout()), CallerStdio::SharedWith(command));
}

}  // namespace tokenbox
