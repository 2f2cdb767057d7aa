#include "sandbox/sandbox.h"

#include <linux/capability.h>

#include <string>

#include "tests/test_support.h"

namespace tokenbox {
namespace {

DelegationPolicy DemoPolicy() {
  return *ParseDelegationPolicy("map_create:prog_load:btf_load", "array", "socket_filter", "any");
}

TEST_CASE("The sandbox builder's defaults: nobody, /sys/fs/bpf, CAP_BPF, every namespace") {
  auto sandbox = SandboxBuilder().Policy(DemoPolicy()).Build();
  TB_REQUIRE_OK(sandbox);
  CHECK(sandbox->uid_map().ToOutside(0) == 65534u);
  CHECK(sandbox->gid_map().ToOutside(0) == 65534u);
  CHECK(sandbox->bpffs_path() == "/sys/fs/bpf");
  CHECK(sandbox->kept_capabilities() == CapabilitySet::Of({CAP_BPF}));
  CHECK(sandbox->namespaces().pid);
  CHECK(sandbox->namespaces().net);
  CHECK(sandbox->namespaces().ipc);
  CHECK(sandbox->namespaces().uts);
  CHECK(sandbox->namespaces().cgroup);
  CHECK_FALSE(sandbox->shares_session_keyring());
  CHECK_FALSE(sandbox->program_is_pid1());
  CHECK_FALSE(sandbox->filesystem().read_only_host);
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
  CHECK_FALSE(SandboxBuilder().Policy(DemoPolicy()).Filesystem({false, {"/tmp"}, false}).Build().ok());
  CHECK_FALSE(SandboxBuilder().Policy(DemoPolicy()).Filesystem({true, {"relative"}, false}).Build().ok());
  // Paths the kernel would refuse half-way into set-up are refused here.
  FilesystemView view;
  view.read_only_host = true;
  view.writable_paths = {"/" + std::string(5000, 'w')};
  auto unusable = SandboxBuilder()
                      .Policy(DemoPolicy())
                      .BpffsPath("/" + std::string(5000, 'b'))
                      .Filesystem(view)
                      .Build();
  REQUIRE_FALSE(unusable.ok());
  message = std::string(unusable.status().message());
  for (const char* fault : {"bpffs path '/bbb", "writable path '/www", "longer than PATH_MAX"}) {
    INFO(fault);
    CHECK(message.find(fault) != std::string::npos);
  }
  CHECK(message.size() < 2000);  // Printable() cut the paths.
}

}  // namespace
}  // namespace tokenbox
