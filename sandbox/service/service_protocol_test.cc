// What a launcher and tokenboxd say to each other: a request arrives whole, with its fds, or is
// refused; nothing past the bounds is held.
#include "sandbox/service/service_protocol.h"

#include <signal.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "ns/fd_passing.h"
#include "ns/wire_format.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::Contains;

constexpr absl::Duration kWait = absl::Seconds(5);

TEST_CASE("A request arrives whole, in parts, with as many fds as it names") {
  auto pair = MakeSocketPair();
  TB_REQUIRE_OK(pair);
  ServiceRequest request;
  request.kind = ServiceRequest::Kind::kLaunch;
  request.sandbox = std::string(3 * kMaxMessagePayload + 7, 's');
  request.command = "command";
  request.bind_sources = 1;
  request.passed_fds = 20;  // More than one message carries.
  std::vector<int> fds(21, STDIN_FILENO);
  TB_REQUIRE_OK(SendServiceRequest(pair->child.get(), request, fds));
  auto received = ReceiveServiceRequest(pair->parent.get(), kWait, kWait);
  TB_REQUIRE_OK(received);
  CHECK(received->request.sandbox == request.sandbox);
  CHECK(received->request.command == "command");
  CHECK(received->fds.size() == 21);
}

TEST_CASE("A request that breaks a bound, the order or its own count is refused") {
  auto send_and_receive = [](const std::vector<std::pair<uint32_t, std::string>>& messages,
                             size_t fds_with_first = 0) {
    auto pair = MakeSocketPair();
    REQUIRE(pair.ok());
    std::vector<int> fds(fds_with_first, STDIN_FILENO);
    for (size_t i = 0; i < messages.size(); ++i) {
      REQUIRE(SendFdMessage(pair->child.get(), messages[i].first, messages[i].second,
                            i == 0 ? absl::Span<const int>(fds) : absl::Span<const int>())
                  .ok());
    }
    return ReceiveServiceRequest(pair->parent.get(), kWait, kWait).status();
  };
  WireWriter out;  // A request as EncodeRequest lays it out, naming one fd.
  out.U32(kServiceProtocolVersion);
  out.U32(0);
  out.String("");
  out.String("");
  out.U32(0);
  out.U32(1);
  out.Bool(false);
  const std::string one_fd = out.bytes();
  // It names an fd and carries none.
  absl::Status missing = send_and_receive({{kServiceRequestPart, one_fd}, {kServiceRequestEnd, ""}});
  CHECK(Contains(std::string(missing.message()), "names 1 fds and carries 0"));
  // Fds before the bytes are done: refused.
  absl::Status fds_first = send_and_receive(
      {{kServiceFds, ""}, {kServiceRequestPart, one_fd}, {kServiceRequestEnd, ""}}, 1);
  CHECK(Contains(std::string(fds_first.message()), "bytes come first"));
  // Another version.
  WireWriter old;
  old.U32(kServiceProtocolVersion + 1);
  absl::Status version = send_and_receive({{kServiceRequestPart, old.bytes()}, {kServiceRequestEnd, ""}});
  CHECK(Contains(std::string(version.message()), "protocol version"));
  // Garbage, and a message of another kind.
  CHECK_FALSE(send_and_receive({{kServiceRequestPart, "garbage"}, {kServiceRequestEnd, ""}}).ok());
  CHECK(Contains(std::string(send_and_receive({{kServiceKill, ""}}).message()),
                 "expected a request"));
  // More bytes than a request may have: refused before they are all read.
  std::vector<std::pair<uint32_t, std::string>> huge(
      kMaxServiceRequestBytes / kMaxMessagePayload + 2,
      {kServiceRequestPart, std::string(kMaxMessagePayload, 'x')});
  auto pair = MakeSocketPair();
  TB_REQUIRE_OK(pair);
  std::thread sender([&] {
    for (const auto& [type, payload] : huge) {
      if (!SendFdMessage(pair->child.get(), type, payload).ok()) return;
    }
  });
  absl::Status too_big = ReceiveServiceRequest(pair->parent.get(), kWait, kWait).status();
  pair->parent.Reset();
  sender.join();
  CHECK(Contains(std::string(too_big.message()), "at most 1048576"));
}

TEST_CASE("A request that stalls is dropped at its timeout") {
  auto pair = MakeSocketPair();
  TB_REQUIRE_OK(pair);
  TB_REQUIRE_OK(SendFdMessage(pair->child.get(), kServiceRequestPart, "x"));
  absl::Status stalled =
      ReceiveServiceRequest(pair->parent.get(), kWait, absl::Milliseconds(50)).status();
  CHECK_FALSE(stalled.ok());
}

TEST_CASE("Only the signals pid 1 relays reach a sandbox") {
  auto pair = MakeSocketPair();
  TB_REQUIRE_OK(pair);
  SendSignalFromHandler(pair->child.get(), SIGINT);
  auto message = ReceiveFdMessage(pair->parent.get(), kWait);
  TB_REQUIRE_OK(message);
  CHECK(message->type == kServiceSignal);
  CHECK(*DecodeSignal(message->payload) == SIGINT);
  WireWriter kill_signal;
  kill_signal.U32(SIGKILL);
  CHECK_FALSE(DecodeSignal(kill_signal.bytes()).ok());
  CHECK_FALSE(DecodeSignal("").ok());
}

TEST_CASE("Start and end messages survive the trip, and malformed ones are refused") {
  auto start = DecodeServiceStart(EncodeServiceStart({42, 2063597570, true}));
  TB_REQUIRE_OK(start);
  CHECK(start->pid == 42);
  CHECK(start->host_uid == 2063597570u);
  CHECK(start->has_terminal);
  CHECK_FALSE(DecodeServiceStart("").ok());
  ServiceEnd end{ExitStatus::Signaled(SIGTERM), {}};
  end.usage.ru_maxrss = 1234;
  auto decoded = DecodeServiceEnd(EncodeServiceEnd(end));
  TB_REQUIRE_OK(decoded);
  CHECK(decoded->status == ExitStatus::Signaled(SIGTERM));
  CHECK(decoded->usage.ru_maxrss == 1234);
  CHECK_FALSE(DecodeServiceEnd("short").ok());
}

}  // namespace
}  // namespace tokenbox
