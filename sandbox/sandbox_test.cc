#include "sandbox/sandbox.h"

#include <linux/capability.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sandbox/host_resources/host_id_lease.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

DelegationPolicy DemoPolicy() {
  return *ParseDelegationPolicy("map_create:prog_load:btf_load", "array", "socket_filter", "any");
}

TEST_CASE("The sandbox builder's defaults: leased ids, /sys/fs/bpf, CAP_BPF, every namespace") {
  auto sandbox = SandboxBuilder().Policy(DemoPolicy()).Build();
  TB_REQUIRE_OK(sandbox);
  CHECK_FALSE(sandbox->uid_map().has_value());  // Leased at each launch.
  CHECK_FALSE(sandbox->gid_map().has_value());
  CHECK(sandbox->bpffs_path() == "/sys/fs/bpf");
  CHECK(sandbox->kept_capabilities() == CapabilitySet::Of({CAP_BPF}));
  CHECK(sandbox->namespaces().pid);
  CHECK(sandbox->namespaces().net);
  CHECK(sandbox->namespaces().ipc);
  CHECK(sandbox->namespaces().uts);
  CHECK(sandbox->namespaces().cgroup);
  CHECK_FALSE(sandbox->shares_session_keyring());
  CHECK_FALSE(sandbox->program_is_pid1());
  CHECK_FALSE(sandbox->filesystem().empty_root);  // The host's tree, read-only.
  CHECK(sandbox->filesystem().operations.empty());
}

TEST_CASE("The sandbox builder reports every inconsistency at Build(), not at launch") {
  auto nothing = SandboxBuilder().Build();
  REQUIRE_FALSE(nothing.ok());
  CHECK(std::string(nothing.status().message()).find("delegates nothing") != std::string::npos);
  auto bad = SandboxBuilder()
                 .Policy(DemoPolicy())
                 .BpffsPath("relative")
                 .UidMap(*IdMap::Single(1, 1000))
                 .Build();
  REQUIRE_FALSE(bad.ok());
  std::string message(bad.status().message());
  for (const char* fault : {"invalid sandbox: ", "bpffs path 'relative'", "must map inside uid 0"}) {
    INFO(fault);
    CHECK(message.find(fault) != std::string::npos);
  }
  NewNamespaces no_pid;
  no_pid.pid = false;
  CHECK_FALSE(SandboxBuilder().Policy(DemoPolicy()).Namespaces(no_pid).ProgramAsPid1().Build().ok());
  // Paths the kernel would refuse half-way into set-up are refused here.
  auto unusable = SandboxBuilder()
                      .Policy(DemoPolicy())
                      .BpffsPath("/" + std::string(5000, 'b'))
                      .Bind("/" + std::string(5000, 'w'), "/w")
                      .Build();
  REQUIRE_FALSE(unusable.ok());
  message = std::string(unusable.status().message());
  for (const char* fault : {"bpffs path '/bbb", "bind source '/www", "longer than PATH_MAX"}) {
    INFO(fault);
    CHECK(message.find(fault) != std::string::npos);
  }
  CHECK(message.size() < 2000);  // Printable() cut the paths.
}

TEST_CASE("A filesystem view that set-up could not apply is refused at Build()") {
  auto refused = [](SandboxBuilder builder, const char* why) {
    auto built = builder.Policy(DemoPolicy()).Build();
    REQUIRE_FALSE(built.ok());
    INFO(built.status().message());
    CHECK(std::string(built.status().message()).find(why) != std::string::npos);
  };
  refused(SandboxBuilder().Bind("relative", "/x"), "bind source 'relative'");
  refused(SandboxBuilder().ReadOnlyBind("/usr", "relative"), "mount destination 'relative'");
  refused(SandboxBuilder().Tmpfs("/"), "only --remount-ro may name / itself");
  refused(SandboxBuilder().Symlink("", "/link"), "a symlink's target must be non-empty");
  NewNamespaces no_pid;
  no_pid.pid = false;
  refused(SandboxBuilder().Proc("/proc").Namespaces(no_pid), "needs the sandbox's pid namespace");
  refused(SandboxBuilder().Proc("/p").Tmpfs("/p/sub"), "nothing can be mounted below --proc /p");
  // What set-up can apply is accepted, in any order the operations allow.
  auto fine = SandboxBuilder()
                  .Policy(DemoPolicy())
                  .EmptyRoot()
                  .ReadOnlyBind("/usr", "/usr")
                  .Symlink("usr/lib", "/lib")
                  .Tmpfs("/tmp")
                  .Dev("/dev")
                  .Proc("/proc")
                  .RemountReadOnly("/")
                  .Build();
  TB_REQUIRE_OK(fine);
  CHECK(fine->filesystem().empty_root);
  REQUIRE(fine->filesystem().operations.size() == 6);
  CHECK(fine->filesystem().operations[1].kind == MountOperation::Kind::kSymlink);
  CHECK(fine->filesystem().operations[1].source == "usr/lib");
  CHECK(fine->filesystem().operations[1].destination == "/lib");
}

DelegationPolicy PolicyWithPrograms(const char* progs) {
  return *ParseDelegationPolicy("map_create:prog_load:btf_load:link_create", "array", progs, "any");
}

TEST_CASE("A seccomp filter has 1 to BPF_MAXINSNS instructions; none by default") {
  auto plain = SandboxBuilder().Policy(DemoPolicy()).Build();
  TB_REQUIRE_OK(plain);
  CHECK(plain->seccomp_filter().empty());
  const sock_filter allow = BPF_STMT(BPF_RET | BPF_K, 0x7fff0000u);  // SECCOMP_RET_ALLOW
  auto one = SandboxBuilder().Policy(DemoPolicy()).SeccompFilter({allow}).Build();
  TB_REQUIRE_OK(one);
  CHECK(one->seccomp_filter().size() == 1u);
  for (size_t size : {size_t{0}, size_t{BPF_MAXINSNS + 1}}) {
    CAPTURE(size);
    auto refused = SandboxBuilder()
                       .Policy(DemoPolicy())
                       .SeccompFilter(std::vector<sock_filter>(size, allow))
                       .Build();
    REQUIRE_FALSE(refused.ok());
    CHECK(std::string(refused.status().message()).find("a seccomp filter has 1 to 4096") !=
          std::string::npos);
  }
}

// Programs that attach to a network namespace or a cgroup reach the host's when the sandbox
// shares it.
TEST_CASE("Program types that attach to a namespace need the sandbox's own") {
  NewNamespaces shared;
  shared.net = false;
  shared.cgroup = false;
  for (const char* progs : {"sk_lookup", "xdp", "sched_cls", "netfilter", "any"}) {
    CAPTURE(progs);
    auto built = SandboxBuilder().Policy(PolicyWithPrograms(progs)).Namespaces(shared).Build();
    REQUIRE_FALSE(built.ok());
    CHECK(std::string(built.status().message()).find("attach to a network namespace, and the "
                                                     "sandbox shares the host's (--share-net)") !=
          std::string::npos);
    // Its own namespace is what makes them safe.
    NewNamespaces own_net = shared;
    own_net.net = true;
    if (std::string(progs) != "any") {
      CHECK(SandboxBuilder().Policy(PolicyWithPrograms(progs)).Namespaces(own_net).Build().ok());
    }
  }
  for (const char* progs : {"cgroup_skb", "cgroup_sock_addr", "sock_ops", "cgroup_device"}) {
    CAPTURE(progs);
    NewNamespaces own_net = shared;
    own_net.net = true;
    auto built = SandboxBuilder().Policy(PolicyWithPrograms(progs)).Namespaces(own_net).Build();
    REQUIRE_FALSE(built.ok());
    CHECK(std::string(built.status().message()).find("attach to cgroups, and the sandbox shares "
                                                     "the host's cgroup namespace") !=
          std::string::npos);
    CHECK(SandboxBuilder().Policy(PolicyWithPrograms(progs)).Build().ok());
  }
  // Types that attach only to what the sandbox makes itself stay allowed when sharing.
  CHECK(SandboxBuilder().Policy(PolicyWithPrograms("socket_filter:sk_reuseport")).Namespaces(shared)
            .Build()
            .ok());
}

TEST_CASE("Whole-machine tracing, CAP_SYS_ADMIN and host root are refused unless named") {
  const CapabilitySet perfmon = CapabilitySet::Of({CAP_PERFMON});
  for (const char* progs : {"kprobe", "tracing", "lsm", "struct_ops", "any"}) {
    CAPTURE(progs);
    auto built = SandboxBuilder().Policy(PolicyWithPrograms(progs)).KeepCapabilities(perfmon).Build();
    REQUIRE_FALSE(built.ok());
    CHECK(std::string(built.status().message()).find("--allow-host-tracing") != std::string::npos);
    CHECK(SandboxBuilder()
              .Policy(PolicyWithPrograms(progs))
              .KeepCapabilities(perfmon)
              .AllowHostWideTracing()
              .Build()
              .ok());
    // Without CAP_PERFMON they cannot load (the lint says so); nothing to refuse.
    CHECK(SandboxBuilder().Policy(PolicyWithPrograms(progs)).Build().ok());
  }

  auto sys_admin = SandboxBuilder().Policy(DemoPolicy()).KeepCapabilities(
      CapabilitySet::Of({CAP_SYS_ADMIN}));
  auto refused = SandboxBuilder(sys_admin).Build();
  REQUIRE_FALSE(refused.ok());
  CHECK(std::string(refused.status().message()).find("--allow-sys-admin") != std::string::npos);
  CHECK(sys_admin.AllowSysAdmin().Build().ok());

  for (bool by_group : {false, true}) {
    CAPTURE(by_group);
    SandboxBuilder root_mapped;
    root_mapped.Policy(DemoPolicy());
    if (by_group) {
      root_mapped.GidMap(*IdMap::Parse("0:1000:1,1:0:1"));
    } else {
      root_mapped.HostUser(0);
    }
    auto host_root = SandboxBuilder(root_mapped).Build();
    REQUIRE_FALSE(host_root.ok());
    CHECK(std::string(host_root.status().message()).find("include host uid or gid 0") !=
          std::string::npos);
    CHECK(root_mapped.AllowHostRoot().Build().ok());
  }

  // The leased range cannot be named: that id would be some running sandbox's.
  for (uint32_t id : {HostIdLease::kFirstId, HostIdLease::kFirstId + HostIdLease::kIdCount - 1}) {
    CAPTURE(id);
    auto leased = SandboxBuilder().Policy(DemoPolicy()).HostUser(id).Build();
    REQUIRE_FALSE(leased.ok());
    CHECK(std::string(leased.status().message()).find("which tokenbox leases") !=
          std::string::npos);
    CHECK_FALSE(SandboxBuilder().Policy(DemoPolicy()).GidMap(
        *IdMap::Parse(absl::StrCat("0:", id - 5, ":10"))).Build().ok());
  }
  CHECK(SandboxBuilder().Policy(DemoPolicy()).HostUser(HostIdLease::kFirstId - 1).Build().ok());
  CHECK(SandboxBuilder().Policy(DemoPolicy())
            .HostUser(HostIdLease::kFirstId + HostIdLease::kIdCount).Build().ok());
}

}  // namespace
}  // namespace tokenbox
