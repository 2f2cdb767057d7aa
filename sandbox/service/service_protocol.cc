#include "sandbox/service/service_protocol.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "ns/wire_format.h"
#include "sandbox/child/signals.h"

namespace tokenbox {

std::string EncodeServiceRequest(const ServiceRequest& request) {
  WireWriter out;
  out.U32(kServiceProtocolVersion);
  out.U32(static_cast<uint32_t>(request.kind));
  out.String(request.sandbox);
  out.String(request.command);
  out.U32(request.bind_sources);
  out.U32(request.passed_fds);
  out.Bool(request.verbose);
  return out.bytes();
}

absl::StatusOr<ServiceRequest> DecodeServiceRequest(absl::string_view bytes) {
  WireReader in(bytes);
  uint32_t version = 0, kind = 0;
  ServiceRequest request;
  if (in.U32(&version) && version != kServiceProtocolVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the launcher speaks tokenboxd's protocol version ", version, ", this tokenboxd ",
        kServiceProtocolVersion, ": use the tokenbox that came with this tokenboxd"));
  }
  in.U32AtMost(static_cast<uint32_t>(ServiceRequest::Kind::kShowGrant), &kind);
  in.String(&request.sandbox);
  in.String(&request.command);
  in.U32AtMost(kMaxServiceRequestFds, &request.bind_sources);
  in.U32AtMost(kMaxServiceRequestFds, &request.passed_fds);
  in.Bool(&request.verbose);
  if (!in.Done()) return absl::DataLossError("malformed request");
  request.kind = static_cast<ServiceRequest::Kind>(kind);
  return request;
}

absl::Status SendServiceRequest(int sock, const ServiceRequest& request,
                                const std::vector<int>& fds) {
  const std::string bytes = EncodeServiceRequest(request);
  if (bytes.size() > kMaxServiceRequestBytes || fds.size() > kMaxServiceRequestFds) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the request to tokenboxd is too large (", bytes.size(), " bytes, ", fds.size(),
        " fds; at most ", kMaxServiceRequestBytes, " and ", kMaxServiceRequestFds, ")"));
  }
  for (size_t at = 0; at < bytes.size(); at += kMaxMessagePayload) {
    absl::string_view part = absl::string_view(bytes).substr(at, kMaxMessagePayload);
    if (absl::Status s = SendFdMessage(sock, kServiceRequestPart, part); !s.ok()) return s;
  }
  for (size_t at = 0; at < fds.size(); at += kMaxMessageFds) {
    const size_t count = std::min(kMaxMessageFds, fds.size() - at);
    if (absl::Status s = SendFdMessage(sock, kServiceFds, "", {fds.data() + at, count}); !s.ok()) {
      return s;
    }
  }
  return SendFdMessage(sock, kServiceRequestEnd);
}

absl::StatusOr<ReceivedRequest> ReceiveServiceRequest(int sock, absl::Duration first_timeout,
                                                      absl::Duration timeout) {
  std::string bytes;
  std::vector<UniqueFd> fds;
  for (bool first = true;; first = false) {
    absl::StatusOr<FdMessage> message = ReceiveFdMessage(sock, first ? first_timeout : timeout);
    if (!message.ok()) return message.status();
    switch (message->type) {
      case kServiceRequestPart:
        if (!fds.empty() || !message->fds.empty() ||
            bytes.size() + message->payload.size() > kMaxServiceRequestBytes) {
          return absl::InvalidArgumentError(absl::StrCat(
              "a request's bytes come first, without fds, and at most ", kMaxServiceRequestBytes,
              " of them"));
        }
        bytes += message->payload;
        break;
      case kServiceFds:
        if (!message->payload.empty() ||
            fds.size() + message->fds.size() > kMaxServiceRequestFds) {
          return absl::InvalidArgumentError(
              absl::StrCat("a request carries at most ", kMaxServiceRequestFds, " fds"));
        }
        for (UniqueFd& fd : message->fds) fds.push_back(std::move(fd));
        break;
      case kServiceRequestEnd: {
        if (!message->payload.empty() || !message->fds.empty()) {
          return absl::InvalidArgumentError("a request's end carries nothing");
        }
        absl::StatusOr<ServiceRequest> request = DecodeServiceRequest(bytes);
        if (!request.ok()) return request.status();
        const size_t expected = request->bind_sources + request->passed_fds +
                                (request->kind == ServiceRequest::Kind::kLaunchInServer ? 1 : 0);
        if (fds.size() != expected) {
          return absl::InvalidArgumentError(absl::StrCat(
              "the request names ", expected, " fds and carries ", fds.size()));
        }
        return ReceivedRequest{*std::move(request), std::move(fds)};
      }
      default:
        return absl::InvalidArgumentError(
            absl::StrCat("expected a request, got message ", message->type));
    }
  }
}

std::string EncodeServiceStart(const ServiceStart& start) {
  WireWriter out;
  out.U32(static_cast<uint32_t>(start.pid));
  out.U32(start.host_uid);
  out.Bool(start.has_terminal);
  return out.bytes();
}

absl::StatusOr<ServiceStart> DecodeServiceStart(absl::string_view payload) {
  WireReader in(payload);
  uint32_t pid = 0;
  ServiceStart start;
  in.U32(&pid);
  in.U32(&start.host_uid);
  in.Bool(&start.has_terminal);
  if (!in.Done() || pid == 0 || pid > (1u << 22)) {
    return absl::DataLossError("tokenboxd's start message is malformed");
  }
  start.pid = static_cast<pid_t>(pid);
  return start;
}

std::string EncodeServiceEnd(const ServiceEnd& end) {
  WireWriter out;
  out.U32(static_cast<uint32_t>(end.status.kind));
  out.U32(static_cast<uint32_t>(end.status.code));
  out.U32(static_cast<uint32_t>(end.status.signal));
  for (const timeval& time : {end.usage.ru_utime, end.usage.ru_stime}) {
    out.U64(static_cast<uint64_t>(time.tv_sec));
    out.U64(static_cast<uint64_t>(time.tv_usec));
  }
  out.U64(static_cast<uint64_t>(end.usage.ru_maxrss));
  return out.bytes();
}

absl::StatusOr<ServiceEnd> DecodeServiceEnd(absl::string_view payload) {
  WireReader in(payload);
  uint32_t kind = 0, code = 0, signal = 0;
  ServiceEnd end;
  in.U32AtMost(static_cast<uint32_t>(ExitStatus::Kind::kTimedOut), &kind);
  in.U32AtMost(255, &code);
  in.U32AtMost(NSIG, &signal);
  for (timeval* time : {&end.usage.ru_utime, &end.usage.ru_stime}) {
    uint64_t seconds = 0, microseconds = 0;
    in.U64(&seconds);
    in.U64(&microseconds);
    time->tv_sec = static_cast<time_t>(seconds);
    time->tv_usec = static_cast<suseconds_t>(microseconds);
  }
  uint64_t maxrss = 0;
  in.U64(&maxrss);
  if (!in.Done()) return absl::DataLossError("tokenboxd's end message is malformed");
  end.status = {static_cast<ExitStatus::Kind>(kind), static_cast<int>(code),
                static_cast<int>(signal)};
  end.usage.ru_maxrss = static_cast<long>(maxrss);
  return end;
}

std::string EncodeServiceGrant(const ServiceGrant& grant) {
  WireWriter out;
  out.String(grant.policy_file);
  out.U32(static_cast<uint32_t>(grant.lines.size()));
  for (int line : grant.lines) out.U32(static_cast<uint32_t>(line));
  for (DelegateKind kind : kAllDelegateKinds) {
    out.U64(grant.policy[kind].bits);
    out.Bool(grant.policy[kind].any);
  }
  out.U64(grant.caps.bits());
  out.Bool(grant.host_tracing);
  return out.bytes();
}

absl::StatusOr<ServiceGrant> DecodeServiceGrant(absl::string_view payload) {
  WireReader in(payload);
  ServiceGrant grant;
  uint32_t lines = 0;
  in.String(&grant.policy_file);
  in.U32AtMost(WireReader::kMaxItems, &lines);
  for (uint32_t i = 0; in.ok() && i < lines; ++i) {
    uint32_t line = 0;
    if (in.U32(&line)) grant.lines.push_back(static_cast<int>(line));
  }
  for (DelegateKind kind : kAllDelegateKinds) {
    in.U64(&grant.policy[kind].bits);
    in.Bool(&grant.policy[kind].any);
  }
  uint64_t caps = 0;
  in.U64(&caps);
  grant.caps = CapabilitySet(caps);
  in.Bool(&grant.host_tracing);
  if (!in.Done()) return absl::DataLossError("tokenboxd's grant message is malformed");
  return grant;
}

void SendSignalFromHandler(int sock, int sig) {
  struct {
    MessageHeader header;
    uint32_t sig;  // As WireWriter::U32 lays it out.
  } datagram = {{kMessageMagic, kServiceSignal, sizeof(uint32_t), 0}, static_cast<uint32_t>(sig)};
  const int saved_errno = errno;
  (void)send(sock, &datagram, sizeof(datagram), MSG_NOSIGNAL | MSG_DONTWAIT);
  errno = saved_errno;
}

absl::StatusOr<int> DecodeSignal(absl::string_view payload) {
  WireReader in(payload);
  uint32_t sig = 0;
  in.U32(&sig);
  if (!in.Done() || std::find(std::begin(kRelayedSignals), std::end(kRelayedSignals),
                              static_cast<int>(sig)) == std::end(kRelayedSignals)) {
    return absl::InvalidArgumentError(
        "only SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP and SIGCONT reach a sandbox");
  }
  return static_cast<int>(sig);
}

}  // namespace tokenbox
