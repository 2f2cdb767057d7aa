// packet_counter: a libbpf loader meant to run inside a tokenbox sandbox, as an unprivileged user
// holding only CAP_BPF. It loads a socket filter through the sandbox's BPF token, proves the
// program runs by counting loopback datagrams with it, and proves the token is no wider than its
// policy by asking for a map type the policy does not delegate.
//
// Exit codes: 0 success, 1 a step failed, 2 bad usage or not running in a tokenbox sandbox.

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "ns/errno_status.h"
#include "ns/unique_fd.h"
#include "sandbox/inside.h"
#include "token/delegation_policy.h"
#include "token/process_capabilities.h"
#include "token/token.h"

namespace tokenbox {
namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

constexpr char kObjectFileName[] = "packet_counter.bpf.o";
constexpr char kRunfilesObjectPath[] =
    ".runfiles/tokenbox/examples/packet_counter/packet_counter.bpf.o";
constexpr char kProgramName[] = "count_packets";
constexpr char kCounterMapName[] = "packet_count";

// Bounds a mistyped --packets; each datagram is a round trip, so this still finishes quickly.
constexpr int kMaxPackets = 100000;
constexpr int kDefaultPackets = 10;

constexpr char kUsage[] = R"(Usage: packet_counter [--object=PATH] [--packets=N]

Run inside a tokenbox sandbox. Loads a socket filter through the sandbox's BPF token, sends N
datagrams (default 10) over loopback through a socket it is attached to, checks the program
counted them all, and checks that creating a hash map (not delegated) is refused.

  --object=PATH  the compiled program (default: packet_counter.bpf.o beside this binary)
  --packets=N    how many datagrams to send, 1 to 100000

Exit codes: 0 success, 1 a step failed, 2 bad usage or not in a tokenbox sandbox.
)";

struct Options {
  std::string object_path;  // Empty: found next to the binary.
  int packets = kDefaultPackets;
};

// Parses argv into `options`; on a bad argument returns why.
absl::Status ParseOptions(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--object=")) {
      if (arg.empty()) return absl::InvalidArgumentError("--object needs a path");
      options.object_path = std::string(arg);
    } else if (absl::ConsumePrefix(&arg, "--packets=")) {
      if (!absl::SimpleAtoi(arg, &options.packets) || options.packets < 1 ||
          options.packets > kMaxPackets) {
        return absl::InvalidArgumentError(
            absl::StrCat("--packets needs a number from 1 to ", kMaxPackets, ", not '", arg, "'"));
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown argument '", arg, "'"));
    }
  }
  return absl::OkStatus();
}

// Prints one failed step as a single line and returns the failure exit code.
int Fail(absl::string_view step, const absl::Status& status) {
  std::fprintf(stderr, "packet_counter: %s failed: %s\n", std::string(step).c_str(),
               std::string(status.message()).c_str());
  return kExitFailure;
}

// libbpf's informational and debug chatter would bury the result lines; its warnings carry the
// verifier log and token failures, which are exactly what a failed load needs explained.
int PrintLibbpfWarnings(libbpf_print_level level, const char* format, va_list args) {
  if (level != LIBBPF_WARN) return 0;
  return std::vfprintf(stderr, format, args);
}

std::string OrNone(const std::string& text, const char* none) { return text.empty() ? none : text; }

void PrintCapabilities(const ProcessCapabilities& caps) {
  std::printf("capabilities: effective=%s permitted=%s bounding=%s\n",
              OrNone(caps.effective.ToString(), "none").c_str(),
              OrNone(caps.permitted.ToString(), "none").c_str(),
              OrNone(caps.bounding.ToString(), "none").c_str());
}

void PrintTokenPolicy(const DelegationPolicy& policy) {
  std::string line = "token allows:";
  for (DelegateKind kind : kAllDelegateKinds) {
    absl::StrAppend(&line, " ", OptionName(kind), "=",
                    OrNone(FormatDelegateMask(kind, policy[kind]), "(nothing)"));
  }
  std::printf("%s\n", line.c_str());
}

bool IsReadable(const std::string& path) { return access(path.c_str(), R_OK) == 0; }

// The object beside the binary (where the demo stages both), else in Bazel's runfiles tree.
absl::StatusOr<std::string> DefaultObjectPath() {
  char exe[PATH_MAX];
  ssize_t length = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (length < 0) {
    return ErrnoStatus(errno, "readlink(/proc/self/exe)", "pass the object with --object=PATH");
  }
  std::string exe_path(exe, static_cast<size_t>(length));
  std::string beside = absl::StrCat(exe_path.substr(0, exe_path.rfind('/') + 1), kObjectFileName);
  if (IsReadable(beside)) return beside;
  std::string in_runfiles = absl::StrCat(exe_path, kRunfilesObjectPath);
  if (IsReadable(in_runfiles)) return in_runfiles;
  return absl::NotFoundError(absl::StrCat("no readable ", kObjectFileName, " at ", beside, " or ",
                                          in_runfiles,
                                          ": copy it beside the binary or pass --object=PATH"));
}

// libbpf reports its own failures (a file that is not a BPF object, say) as codes from 4000 up,
// which no errno table names; those are described with libbpf's words instead.
absl::Status LibbpfError(int err, absl::string_view call, absl::string_view remedy) {
  if (err < __LIBBPF_ERRNO__START) return ErrnoStatus(err, call, remedy);
  char description[128];
  libbpf_strerror(err, description, sizeof(description));
  return absl::InternalError(
      absl::StrCat(call, ": libbpf error ", err, " (", description, "): ", remedy));
}

struct BpfObjectCloser {
  void operator()(bpf_object* object) const { bpf_object__close(object); }
};
using BpfObjectPtr = std::unique_ptr<bpf_object, BpfObjectCloser>;

// The loaded object and the two fds inside it; the fds live exactly as long as `object`.
struct LoadedCounter {
  BpfObjectPtr object;
  int program_fd = -1;
  int map_fd = -1;
};

absl::StatusOr<LoadedCounter> LoadCounter(const std::string& object_path,
                                          const std::string& bpffs_path) {
  // Naming the bpffs explicitly (rather than relying on LIBBPF_BPF_TOKEN_PATH alone) makes the
  // token mandatory: libbpf then fails loudly instead of quietly trying a tokenless load.
  LIBBPF_OPTS(bpf_object_open_opts, open_options, .bpf_token_path = bpffs_path.c_str());
  LoadedCounter counter;
  counter.object.reset(bpf_object__open_file(object_path.c_str(), &open_options));
  if (counter.object == nullptr) {
    return LibbpfError(errno, absl::StrCat("bpf_object__open_file(", object_path, ")"),
                       "is it the packet_counter.bpf.o this binary was built with?");
  }
  if (int err = bpf_object__load(counter.object.get()); err != 0) {
    return LibbpfError(
        -err, absl::StrCat("bpf_object__load(", object_path, ") with a token from ", bpffs_path),
        "the policy must delegate cmds map_create:prog_load, map type array, program type "
        "socket_filter and attach type cgroup_inet_ingress (the 0 every socket filter carries) "
        "or any; libbpf's warnings above name the step that was refused");
  }
  bpf_program* program = bpf_object__find_program_by_name(counter.object.get(), kProgramName);
  bpf_map* map = bpf_object__find_map_by_name(counter.object.get(), kCounterMapName);
  if (program == nullptr || map == nullptr) {
    return absl::NotFoundError(absl::StrCat(object_path, " lacks program ", kProgramName,
                                            " or map ", kCounterMapName,
                                            ": rebuild it from packet_counter.bpf.c"));
  }
  counter.program_fd = bpf_program__fd(program);
  counter.map_fd = bpf_map__fd(map);
  return counter;
}

absl::Status PrintLoadedIds(const LoadedCounter& counter) {
  bpf_prog_info program_info = {};
  uint32_t program_info_size = sizeof(program_info);
  if (bpf_prog_get_info_by_fd(counter.program_fd, &program_info, &program_info_size) != 0) {
    return ErrnoStatus(errno, "bpf_prog_get_info_by_fd(count_packets)",
                       "this needs no privilege, so libbpf handed back a bad fd: report a bug");
  }
  bpf_map_info map_info = {};
  uint32_t map_info_size = sizeof(map_info);
  if (bpf_map_get_info_by_fd(counter.map_fd, &map_info, &map_info_size) != 0) {
    return ErrnoStatus(errno, "bpf_map_get_info_by_fd(packet_count)",
                       "this needs no privilege, so libbpf handed back a bad fd: report a bug");
  }
  const char* program_type =
      libbpf_bpf_prog_type_str(static_cast<bpf_prog_type>(program_info.type));
  const char* map_type = libbpf_bpf_map_type_str(static_cast<bpf_map_type>(map_info.type));
  std::printf("loaded program id %u (%s), map id %u (%s)\n", program_info.id,
              program_type != nullptr ? program_type : "unknown type", map_info.id,
              map_type != nullptr ? map_type : "unknown type");
  return absl::OkStatus();
}

// A new network namespace starts with loopback down, which shows up as ENETUNREACH on the first
// send (or EADDRNOTAVAIL on the bind, where 127.0.0.1 is not configured at all).
absl::Status SocketError(int err, absl::string_view call) {
  if (err == ENETUNREACH || err == EADDRNOTAVAIL) {
    return ErrnoStatus(err, call,
                       "loopback is down in this network namespace: bring it up (ip link set lo "
                       "up) or run the sandbox without a new network namespace");
  }
  return ErrnoStatus(err, call, "the sandbox must allow UDP over IPv4 loopback");
}

absl::StatusOr<UniqueFd> UdpSocket() {
  UniqueFd socket_fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!socket_fd) {
    return ErrnoStatus(errno, "socket(AF_INET, SOCK_DGRAM)",
                       "the sandbox must let the program open IPv4 UDP sockets");
  }
  return socket_fd;
}

// Sends `packets` datagrams from one loopback socket to another that has the filter attached,
// receiving each before sending the next so no amount can overflow the receive buffer.
absl::Status SendThroughFilter(int program_fd, int packets) {
  absl::StatusOr<UniqueFd> receiver = UdpSocket();
  if (!receiver.ok()) return receiver.status();
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(receiver->get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return SocketError(errno, "bind(127.0.0.1:0)");
  }
  socklen_t address_size = sizeof(address);
  if (getsockname(receiver->get(), reinterpret_cast<sockaddr*>(&address), &address_size) != 0) {
    return ErrnoStatus(errno, "getsockname", "the socket was bound just before: report a bug");
  }
  // A lost datagram must end the run with an error, not hang it.
  timeval receive_timeout = {.tv_sec = 2, .tv_usec = 0};
  if (setsockopt(receiver->get(), SOL_SOCKET, SO_RCVTIMEO, &receive_timeout,
                 sizeof(receive_timeout)) != 0) {
    return ErrnoStatus(errno, "setsockopt(SO_RCVTIMEO)",
                       "a fresh UDP socket takes this: report a bug");
  }
  if (setsockopt(receiver->get(), SOL_SOCKET, SO_ATTACH_BPF, &program_fd, sizeof(program_fd)) !=
      0) {
    return ErrnoStatus(errno, "setsockopt(SO_ATTACH_BPF)",
                       "the program must be a socket_filter program");
  }

  absl::StatusOr<UniqueFd> sender = UdpSocket();
  if (!sender.ok()) return sender.status();
  for (int i = 0; i < packets; ++i) {
    std::string payload = absl::StrCat("packet ", i);
    if (sendto(sender->get(), payload.data(), payload.size(), 0,
               reinterpret_cast<const sockaddr*>(&address), sizeof(address)) < 0) {
      return SocketError(errno, absl::StrCat("sendto(127.0.0.1:", ntohs(address.sin_port), ")"));
    }
    char buffer[64];
    ssize_t received = recv(receiver->get(), buffer, sizeof(buffer), 0);
    if (received < 0) {
      return ErrnoStatus(errno, absl::StrCat("recv (datagram ", i + 1, " of ", packets, ")"),
                         "the datagram was dropped; a socket filter that returns 0 drops packets");
    }
    if (absl::string_view(buffer, static_cast<size_t>(received)) != payload) {
      return absl::DataLossError(absl::StrCat("datagram ", i + 1, " came back as ", received,
                                              " bytes, not '", payload,
                                              "': the filter trimmed it"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ReadCount(int map_fd) {
  const uint32_t key = 0;
  uint64_t count = 0;
  if (bpf_map_lookup_elem(map_fd, &key, &count) != 0) {
    return ErrnoStatus(errno, "bpf_map_lookup_elem(packet_count, 0)",
                       "reading a map through its fd needs no privilege: report a bug");
  }
  return count;
}

// The kernel ignores a token that does not delegate a map type and falls back to the caller's own
// privileges, so unprivileged BPF enabled on the host would let anyone create a hash map.
std::string UnprivilegedBpfNote() {
  std::ifstream sysctl("/proc/sys/kernel/unprivileged_bpf_disabled");
  std::string value;
  if (sysctl >> value && value == "0") {
    return " (kernel.unprivileged_bpf_disabled=0 lets any user create hash maps without a token; "
           "set it to 2 on the host)";
  }
  return "";
}

// Returns the process exit code: the check either showed a refusal, was skipped, or failed.
int CheckHashMapRefused(int token_fd, const DelegationPolicy& policy) {
  constexpr char kStep[] = "checking that a non-delegated operation is refused";
  if (policy.maps.Allows(BPF_MAP_TYPE_HASH)) {
    std::printf(
        "skipped the refusal check: this token delegates hash maps, so creating one "
        "proves nothing\n");
    return 0;
  }
  LIBBPF_OPTS(bpf_map_create_opts, create_options, .map_flags = BPF_F_TOKEN_FD,
              .token_fd = static_cast<uint32_t>(token_fd));
  UniqueFd hash_map(bpf_map_create(BPF_MAP_TYPE_HASH, "not_delegated", sizeof(uint32_t),
                                   sizeof(uint64_t), 1, &create_options));
  int err = errno;
  if (hash_map) {
    std::fprintf(stderr,
                 "packet_counter: FAILURE: created a hash map although the token does not "
                 "delegate hash maps: this sandbox allows more than its policy%s\n",
                 UnprivilegedBpfNote().c_str());
    return kExitFailure;
  }
  if (err != EPERM) {
    return Fail(kStep, ErrnoStatus(err, "bpf_map_create(BPF_MAP_TYPE_HASH) with the token",
                                   "a refused map type gives EPERM; this errno means the request "
                                   "itself was wrong, so it proves nothing about the policy"));
  }
  std::printf("refused as expected: creating a hash map (not delegated): %s\n",
              ErrnoName(err).c_str());
  return 0;
}

int Run(const Options& options) {
  // Keeps the result lines in order with libbpf's warnings when both go to one pipe or file.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  absl::StatusOr<SandboxEnvironment> sandbox = CurrentSandbox();
  if (!sandbox.ok()) {
    std::fprintf(stderr, "packet_counter: %s\n", std::string(sandbox.status().message()).c_str());
    return kExitUsage;
  }

  absl::StatusOr<ProcessCapabilities> caps = ReadProcessCapabilities();
  if (!caps.ok()) return Fail("reading capabilities", caps.status());
  PrintCapabilities(*caps);

  absl::StatusOr<DelegationPolicy> policy = ReadTokenInfo(sandbox->token_fd);
  if (!policy.ok()) return Fail("reading what the token allows", policy.status());
  PrintTokenPolicy(*policy);

  if (!sandbox->bpffs_path.has_value()) {
    return Fail("loading the program",
                absl::FailedPreconditionError(absl::StrCat(
                    kLibbpfTokenPathEnv,
                    " is not set, so libbpf cannot derive a token from the sandbox's bpffs: start "
                    "the program with tokenbox run, which mounts the bpffs and sets it")));
  }
  absl::StatusOr<std::string> object_path =
      options.object_path.empty() ? DefaultObjectPath() : options.object_path;
  if (!object_path.ok()) return Fail("finding the program", object_path.status());

  libbpf_set_print(PrintLibbpfWarnings);
  // libbpf 1.4 probes for memcg accounting of BPF memory without the token, so inside the sandbox
  // the probe fails and libbpf warns it cannot raise RLIMIT_MEMLOCK (that needs
  // CAP_SYS_RESOURCE). Every kernel with BPF tokens (6.9+) charges BPF memory to the memory
  // cgroup instead, so there is nothing to raise.
  libbpf_set_memlock_rlim(0);
  absl::StatusOr<LoadedCounter> counter = LoadCounter(*object_path, *sandbox->bpffs_path);
  if (!counter.ok()) return Fail("loading the program", counter.status());
  if (absl::Status status = PrintLoadedIds(*counter); !status.ok()) {
    return Fail("reading the loaded ids", status);
  }

  constexpr char kCountStep[] = "counting loopback packets";
  if (absl::Status status = SendThroughFilter(counter->program_fd, options.packets); !status.ok()) {
    return Fail(kCountStep, status);
  }
  absl::StatusOr<uint64_t> count = ReadCount(counter->map_fd);
  if (!count.ok()) return Fail(kCountStep, count.status());
  std::printf("sent %d packets on loopback, the program counted %llu\n", options.packets,
              static_cast<unsigned long long>(*count));
  if (*count != static_cast<uint64_t>(options.packets)) {
    return Fail(kCountStep, absl::InternalError(absl::StrCat(
                                "the program counted ", *count, " packets, not ", options.packets,
                                ": the filter did not run exactly once per datagram")));
  }

  return CheckHashMapRefused(sandbox->token_fd, *policy);
}

}  // namespace
}  // namespace tokenbox

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(tokenbox::kUsage, stdout);
      return 0;
    }
  }
  tokenbox::Options options;
  if (absl::Status status = tokenbox::ParseOptions(argc, argv, options); !status.ok()) {
    std::fprintf(stderr, "packet_counter: %s (see --help)\n",
                 std::string(status.message()).c_str());
    return tokenbox::kExitUsage;
  }
  return tokenbox::Run(options);
}
