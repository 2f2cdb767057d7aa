// A Sandbox crosses to tokenboxd as bytes, and comes back out of SandboxBuilder::Build(): the
// same spec, or an error; never a sandbox the builder would have refused.
#include "sandbox/sandbox_codec.h"

#include <linux/capability.h>
#include <linux/filter.h>

#include <string>

#include "ns/wire_format.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

Sandbox Rich() {
  auto sandbox =
      SandboxBuilder()
          .Policy(*ParseDelegationPolicy("map_create:prog_load:btf_load", "array:hash", "xdp",
                                         "any"))
          .HostUser(1234)
          .BpffsPath("/run/bpf")
          .KeepCapabilities(CapabilitySet::Of({CAP_NET_ADMIN}))
          .ProgramAsPid1()
          .EmptyRoot()
          .ReadOnlyBind("/usr", "/usr")
          .Bind("/srv/out", "/out")
          .Symlink("usr/lib", "/lib")
          .Tmpfs("/tmp")
          .Dev("/dev")
          .Proc("/proc")
          .RemountReadOnly("/")
          .SeccompFilter({BPF_STMT(BPF_RET | BPF_K, 0x7fff0000u)})
          .MemoryMax(256 << 20)
          .PidsMax(100)
          .CpuMax(50)
          .Build();
  REQUIRE(sandbox.ok());
  return *sandbox;
}

TEST_CASE("A sandbox survives the trip whole") {
  const Sandbox sent = Rich();
  absl::StatusOr<Sandbox> got = SandboxCodec::Decode(SandboxCodec::Encode(sent));
  TB_REQUIRE_OK(got);
  CHECK(got->policy() == sent.policy());
  CHECK(got->uid_map()->ToString() == "0:1234:1");
  CHECK_FALSE(got->gid_map().has_value());
  CHECK(got->bpffs_path() == std::optional<std::string>("/run/bpf"));
  CHECK(got->kept_capabilities().bits() == sent.kept_capabilities().bits());
  CHECK(got->program_is_pid1());
  CHECK(got->filesystem().empty_root);
  REQUIRE(got->filesystem().operations.size() == sent.filesystem().operations.size());
  for (size_t i = 0; i < sent.filesystem().operations.size(); ++i) {
    CHECK(got->filesystem().operations[i].kind == sent.filesystem().operations[i].kind);
    CHECK(got->filesystem().operations[i].source == sent.filesystem().operations[i].source);
    CHECK(got->filesystem().operations[i].destination ==
          sent.filesystem().operations[i].destination);
  }
  CHECK(got->seccomp_filter().size() == 1);
  CHECK(got->seccomp_filter()[0].k == 0x7fff0000u);
  CHECK(got->cgroup_limits().memory_max == std::optional<uint64_t>(256 << 20));
  CHECK(got->cgroup_limits().pids_max == std::optional<uint64_t>(100));
  CHECK(got->cgroup_limits().cpu_percent == std::optional<uint32_t>(50));
  CHECK(SandboxCodec::Encode(*got) == SandboxCodec::Encode(sent));
}

TEST_CASE("Cut, lengthened or inconsistent bytes are refused, never half-read") {
  const std::string bytes = SandboxCodec::Encode(Rich());
  for (size_t cut : {size_t{0}, size_t{1}, bytes.size() / 2, bytes.size() - 1}) {
    CAPTURE(cut);
    CHECK_FALSE(SandboxCodec::Decode(bytes.substr(0, cut)).ok());
  }
  CHECK_FALSE(SandboxCodec::Decode(bytes + "x").ok());
  // 'any' in a mask that is not every bit.
  WireWriter forged;
  forged.Bool(false);
  forged.U32(0);
  forged.Bool(false);
  forged.U32(0);
  forged.U64(1);
  forged.Bool(true);
  absl::StatusOr<Sandbox> any = SandboxCodec::Decode(forged.bytes());
  CHECK_FALSE(any.ok());
}

TEST_CASE("What the builder refuses, decoding refuses: a sandbox is checked again") {
  // --share-net with a program type that attaches to a network namespace.
  auto ok = SandboxBuilder()
                .Policy(*ParseDelegationPolicy("prog_load", "", "sk_lookup", "any"))
                .Build();
  TB_REQUIRE_OK(ok);
  std::string bytes = SandboxCodec::Encode(*ok);
  // The namespace flags follow the maps, masks, bpffs path and capabilities: flip "net" off.
  WireWriter prefix;
  for (int i = 0; i < 2; ++i) {
    prefix.Bool(false);
    prefix.U32(0);
  }
  for (DelegateKind kind : kAllDelegateKinds) {
    prefix.U64(ok->policy()[kind].bits);
    prefix.Bool(ok->policy()[kind].any);
  }
  prefix.Bool(true);
  prefix.String("/sys/fs/bpf");
  prefix.U64(ok->kept_capabilities().bits());
  prefix.Bool(true);  // pid
  const size_t net_at = prefix.bytes().size();
  REQUIRE(bytes.substr(0, net_at) == prefix.bytes());
  bytes[net_at] = 0;  // net: false
  absl::StatusOr<Sandbox> refused = SandboxCodec::Decode(bytes);
  REQUIRE_FALSE(refused.ok());
  CHECK(testing::Contains(std::string(refused.status().message()), "attach to a network namespace"));
}

}  // namespace
}  // namespace tokenbox
