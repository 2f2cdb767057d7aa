// Runs inside a delegated sandbox, through the tokenbox_test rule (tools/defs.bzl), as an
// unprivileged host user with only CAP_BPF: what the policy delegates works through the token,
// and nothing else does.
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "ns/errno_status.h"
#include "sandbox/inside.h"
#include "tests/bpf_ops.h"
#include "tests/test_support.h"
#include "token/process_capabilities.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::CreateMap;
using ::tokenbox::testing::kNoToken;

int Token() {
  static const int token = [] {
    auto sandbox = CurrentSandbox();
    REQUIRE_MESSAGE(sandbox.ok(), sandbox.status().ToString());
    return sandbox->token_fd;
  }();
  return token;
}

TEST_CASE("The test runs as the sandbox's unprivileged user with only CAP_BPF") {
  auto caps = ReadProcessCapabilities();
  TB_REQUIRE_OK(caps);
  CHECK(caps->effective == CapabilitySet::Of({CAP_BPF}));
  CHECK(caps->bounding == CapabilitySet::Of({CAP_BPF}));
  CHECK(getuid() == 0);  // Inside; outside it is a leased uid, so the host's root files are closed:
  CHECK(access("/etc/shadow", R_OK) != 0);
}

TEST_CASE("Delegated maps, BTF and programs load through the token") {
  TB_CHECK_OK(CreateMap(BPF_MAP_TYPE_ARRAY, Token()));
  TB_CHECK_OK(CreateMap(BPF_MAP_TYPE_HASH, Token()));
  TB_CHECK_OK(testing::LoadTinyBtf(Token()));
  TB_CHECK_OK(testing::LoadTrivialProgram(BPF_PROG_TYPE_SOCKET_FILTER, BPF_CGROUP_INET_INGRESS,
                                          Token()));
}

TEST_CASE("What is not delegated, or asked for without the token, is refused with EPERM") {
  CHECK(ErrnoOf(CreateMap(BPF_MAP_TYPE_LRU_HASH, Token()).status()) == EPERM);
  CHECK(ErrnoOf(CreateMap(BPF_MAP_TYPE_ARRAY, kNoToken).status()) == EPERM);
  CHECK(ErrnoOf(testing::LoadTrivialProgram(BPF_PROG_TYPE_XDP, BPF_XDP, Token(), 2).status()) ==
        EPERM);
}

TEST_CASE("An unmodified libbpf object load finds the token by itself") {
  libbpf_set_print([](libbpf_print_level, const char*, va_list) { return 0; });
  bpf_object* object = bpf_object__open_file("examples/packet_counter/packet_counter.bpf.o", nullptr);
  REQUIRE(object != nullptr);
  CHECK(bpf_object__load(object) == 0);
  bpf_object__close(object);
}

}  // namespace
}  // namespace tokenbox
