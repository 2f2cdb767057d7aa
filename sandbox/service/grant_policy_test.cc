// The administrator's grants: what parses, what a caller gets from the lines that match it,
// and what is refused, each with its file and line.
#include "sandbox/service/grant_policy.h"

#include <linux/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "sandbox/sandbox.h"
#include "sandbox/service/grant_syntax.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::Contains;

// root and the groups every Debian machine has; uid 0 is in group root.
constexpr char kPolicy[] = R"(# who  what
root     cmds=map_create:prog_load maps=array progs=socket_filter attachs=any
@root    maps=hash caps=net_admin
*        cmds=btf_load
nobody   -
)";

Sandbox Asking(const char* cmds, const char* maps, const char* progs,
               CapabilitySet caps = CapabilitySet()) {
  auto sandbox = SandboxBuilder()
                     .Policy(*ParseDelegationPolicy(cmds, maps, progs, "any"))
                     .KeepCapabilities(caps)
                     .Build();
  REQUIRE(sandbox.ok());
  return *sandbox;
}

TEST_CASE("A caller gets the union of the lines that name it, its groups, or anyone") {
  auto policy = GrantPolicy::Parse(kPolicy, "/etc/tokenbox/delegation.conf");
  TB_REQUIRE_OK(policy);
  const Grant root = policy->For(0);
  CHECK(root.lines == std::vector<int>{2, 3, 4});
  CHECK(FormatDelegationPolicy(root.policy) ==
        "delegate_cmds=map_create:prog_load:btf_load,delegate_maps=hash:array,"
        "delegate_progs=socket_filter,delegate_attachs=any");
  CHECK(root.caps.Has(CAP_NET_ADMIN));
  CHECK_FALSE(root.host_tracing);
  const Grant nobody = policy->For(65534);
  CHECK(nobody.lines == std::vector<int>{4, 5});
  CHECK(FormatDelegationPolicy(nobody.policy) == "delegate_cmds=btf_load");
  CHECK(nobody.caps.empty());
}

TEST_CASE("A grant shown in the file's syntax parses back to the same grant") {
  absl::StatusOr<GrantPolicy> policy = GrantPolicy::Parse(kPolicy, "/p");
  REQUIRE(policy.ok());
  const Grant root = policy->For(0);
  const std::string shown = FormatGrant(root.policy, root.caps, root.host_tracing);
  CHECK(shown ==
        "cmds=map_create:prog_load:btf_load maps=hash:array progs=socket_filter attachs=any "
        "caps=cap_net_admin");
  absl::StatusOr<GrantPolicy> again = GrantPolicy::Parse(absl::StrCat("root ", shown, "\n"), "/q");
  REQUIRE(again.ok());
  const Grant reparsed = again->For(0);
  CHECK(reparsed.policy == root.policy);
  CHECK(reparsed.caps == root.caps);
  CHECK(FormatGrant(DelegationPolicy(), CapabilitySet(), false) == "-");
  CHECK(FormatGrant(DelegationPolicy(), CapabilitySet(), true) == "tracing=host");
}

TEST_CASE("What lies beyond the grant is refused whole, naming the item and the file") {
  auto policy = GrantPolicy::Parse(kPolicy, "/etc/tokenbox/delegation.conf");
  TB_REQUIRE_OK(policy);
  const Grant root = policy->For(0);
  TB_CHECK_OK(policy->Check(root, Asking("map_create", "array:hash", "socket_filter",
                                         CapabilitySet::Of({CAP_NET_ADMIN})),
                            "root"));
  absl::Status maps = policy->Check(root, Asking("map_create", "array:ringbuf", ""), "root");
  CHECK(maps.message() ==
        "maps 'ringbuf' is not granted to root by /etc/tokenbox/delegation.conf (lines 2, 3, 4)");
  absl::Status caps = policy->Check(root, Asking("map_create", "array", "",
                                                 CapabilitySet::Of({CAP_PERFMON})),
                                    "root");
  CHECK(Contains(std::string(caps.message()), "caps 'cap_perfmon' (--keep-caps) is not granted"));
  const Grant stranger = GrantPolicy::Parse("root -\n", "/p").value().For(65534);
  absl::Status none = GrantPolicy::Parse("root -\n", "/p")->Check(stranger, Asking("map_create", "array", ""), "nobody");
  CHECK(none.message() == "cmds 'map_create' is not granted to nobody (no line of /p names nobody)");
}

TEST_CASE("Tracing the whole machine needs tracing=host, beyond caps=perfmon") {
  auto policy = GrantPolicy::Parse(
      "root cmds=prog_load progs=kprobe attachs=any caps=perfmon\n"
      "@root tracing=host\n",
      "/p");
  TB_REQUIRE_OK(policy);
  auto tracing = SandboxBuilder()
                     .Policy(*ParseDelegationPolicy("prog_load", "", "kprobe", "any"))
                     .KeepCapabilities(CapabilitySet::Of({CAP_PERFMON}))
                     .AllowHostWideTracing()
                     .Build();
  TB_REQUIRE_OK(tracing);
  TB_CHECK_OK(policy->Check(policy->For(0), *tracing, "root"));
  auto without = GrantPolicy::Parse("root cmds=prog_load progs=kprobe attachs=any caps=perfmon\n", "/p");
  TB_REQUIRE_OK(without);
  absl::Status refused = without->Check(without->For(0), *tracing, "root");
  CHECK(Contains(std::string(refused.message()), "tracing=host"));
}

TEST_CASE("A line that is not valid refuses the whole file, saying where") {
  struct Case {
    const char* text;
    const char* error;
  } cases[] = {
      {"root cmds=map_create\nroot maps=nosuchmap\n", "/p:2: "},
      {"root cmds=map_create frobs=1\n", "/p:1: unknown item 'frobs'"},
      {"no-such-user-tbx cmds=map_create\n", "/p:1: no user 'no-such-user-tbx'"},
      {"@no-such-group-tbx cmds=map_create\n", "/p:1: no group 'no-such-group-tbx'"},
      {"root - cmds=map_create\n", "/p:1: '-' grants nothing, and stands alone"},
      {"root cmds=map_create cmds=btf_load\n", "/p:1: 'cmds' is given twice"},
      {"root\n", "/p:1: a grant names what it grants"},
      {"root cmds=map_create tracing=yes\n", "/p:1: tracing= takes 'host'"},
      {"root caps=no_such_cap\n", "/p:1: caps: "},
      {"root cmds\n", "/p:1: 'cmds' is not KEY=VALUE"},
      {"root cmds=map_create \x01\n", "/p:1: control characters"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    auto policy = GrantPolicy::Parse(c.text, "/p");
    REQUIRE_FALSE(policy.ok());
    CHECK(std::string(policy.status().message()).rfind(c.error, 0) == 0);
  }
  auto comments = GrantPolicy::Parse("# only a comment\n\n   \n", "/p");
  TB_REQUIRE_OK(comments);
  CHECK(comments->lines().empty());
}

TEST_CASE("The file must be root's and writable by no one else, and so must its directory") {
  TB_REQUIRE_PRIVILEGE();
  char dir_template[] = "/tmp/tokenbox-policy-XXXXXX";
  REQUIRE(mkdtemp(dir_template) != nullptr);
  const std::string dir = dir_template;
  REQUIRE(chmod(dir.c_str(), 0755) == 0);
  const std::string path = dir + "/delegation.conf";
  auto missing = GrantPolicy::Read(path);
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(Contains(std::string(missing.status().message()), "does not exist, so no one is granted"));
  std::ofstream(path) << "root cmds=map_create\n";
  REQUIRE(chmod(path.c_str(), 0644) == 0);
  TB_CHECK_OK(GrantPolicy::Read(path));
  REQUIRE(chmod(path.c_str(), 0664) == 0);
  auto group_writable = GrantPolicy::Read(path);
  CHECK(Contains(std::string(group_writable.status().message()),
                 "must be root's and writable by no one else"));
  REQUIRE(chmod(path.c_str(), 0644) == 0);
  REQUIRE(chown(path.c_str(), 65534, 0) == 0);
  CHECK(Contains(std::string(GrantPolicy::Read(path).status().message()), "it is uid 65534's"));
  REQUIRE(chown(path.c_str(), 0, 0) == 0);
  REQUIRE(chmod(dir.c_str(), 0777) == 0);
  CHECK(Contains(std::string(GrantPolicy::Read(path).status().message()), "policy directory"));
  REQUIRE(chmod(dir.c_str(), 0755) == 0);
  const std::string link = dir + "/link.conf";
  REQUIRE(symlink(path.c_str(), link.c_str()) == 0);
  CHECK_FALSE(GrantPolicy::Read(link).ok());
  unlink(link.c_str());
  unlink(path.c_str());
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace tokenbox
