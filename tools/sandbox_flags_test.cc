// The one option table: every command and the Bazel rule take their options from it, so that no
// option's name, help or parse is written twice.
#include "tools/sandbox_flags.h"

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/test_support.h"

namespace tokenbox {
namespace {

absl::StatusOr<SandboxRequest> Apply(FlagUser user, std::vector<std::string> args) {
  static std::vector<std::string> storage;
  storage = std::move(args);
  storage.insert(storage.begin(), "tokenbox");
  std::vector<char*> argv;
  for (std::string& s : storage) argv.push_back(s.data());
  const std::vector<SandboxFlag> flags = SandboxFlagsFor(user);
  absl::StatusOr<CommandLine> line =
      ParseSandboxCommandLine(static_cast<int>(argv.size()), argv.data(), flags);
  if (!line.ok()) return line.status();
  return ApplySandboxFlags(*line, flags);
}

TEST_CASE("Each option is in the table once, and every command takes the policy options") {
  std::set<std::string> names;
  for (const SandboxFlag& flag : AllSandboxFlags()) {
    INFO(flag.name);
    CHECK(names.insert(flag.name).second);
    CHECK((flag.users & kRunFlag) != 0);  // run takes every option the others take.
    if (flag.section == FlagSection::kPolicy) {
      CHECK(flag.users == (kRunFlag | kFuzzFlag | kExplainFlag));
    }
  }
  for (const char* name : {"delegate-cmds", "delegate-maps", "delegate-progs",
                           "delegate-attachs", "keep-caps"}) {
    INFO(name);
    const SandboxFlag* flag = FindSandboxFlag(name);
    REQUIRE(flag != nullptr);
    CHECK(flag->section == FlagSection::kPolicy);
  }
  CHECK(FindSandboxFlag("no-such-option") == nullptr);
  // What tokenbox probe lists as the option that gives a default up is one of the table's.
  for (const SandboxDefault& protection : SandboxDefaults()) {
    INFO(protection.protection);
    if (protection.opt_out != nullptr) CHECK(FindSandboxFlag(protection.opt_out) != nullptr);
  }
}

TEST_CASE("A policy option parses the same for run, fuzz and explain, and once only") {
  for (FlagUser user : {kRunFlag, kFuzzFlag, kExplainFlag}) {
    INFO(user);
    auto request = Apply(user, {"--delegate-cmds=map_create", "--delegate-maps=array",
                                "--keep-caps=net_admin"});
    TB_REQUIRE_OK(request);
    CHECK(FormatDelegationPolicy(request->policy) ==
          "delegate_cmds=map_create,delegate_maps=array");
    CHECK(request->kept_caps.ToString() == "cap_net_admin,cap_bpf");
    auto twice = Apply(user, {"--delegate-maps=array", "--delegate-maps=hash"});
    REQUIRE_FALSE(twice.ok());
    CHECK(twice.status().message() ==
          "option '--delegate-maps' is given twice; list every item in one option");
    auto empty = Apply(user, {"--keep-caps="});
    REQUIRE_FALSE(empty.ok());
    CHECK(empty.status().message() ==
          "option '--keep-caps' has an empty list; leave the option out to keep only cap_bpf");
    auto typo = Apply(user, {"--delegate-progs=xpd"});
    REQUIRE_FALSE(typo.ok());
    CHECK(std::string(typo.status().message()).find("did you mean 'xdp'?") != std::string::npos);
  }
  // Only run takes what explain and fuzz do not.
  CHECK(Apply(kRunFlag, {"--share-net"}).ok());
  CHECK_FALSE(Apply(kFuzzFlag, {"--share-net"}).ok());
  CHECK_FALSE(Apply(kExplainFlag, {"--timeout=1s"}).ok());
  CHECK(Apply(kFuzzFlag, {"--timeout=1s"}).ok());
}

TEST_CASE("Every option the Bazel rule writes is one of run's, with a value where it gives one") {
  std::ifstream file("tools/defs.bzl");
  REQUIRE(file.good());
  std::stringstream text;
  text << file.rdbuf();
  const std::string rule = text.str();
  int checked = 0;
  // ("--delegate-cmds", delegate_cmds): written as --NAME=VALUE when the attribute is set;
  // options.append("--unshare-net"): written alone.
  for (const auto& [opening, takes_value] :
       {std::pair{std::string("(\"--"), true}, std::pair{std::string("append(\"--"), false}}) {
    for (size_t at = rule.find(opening); at != std::string::npos; at = rule.find(opening, at + 1)) {
      const size_t start = at + opening.size();
      const std::string name = rule.substr(start, rule.find('"', start) - start);
      if (takes_value && rule.compare(at - 6, 6, "append") == 0) continue;  // The other kind.
      INFO(name);
      const SandboxFlag* flag = FindSandboxFlag(name);
      REQUIRE(flag != nullptr);
      CHECK((flag->value_name != nullptr) == takes_value);
      ++checked;
    }
  }
  // The five policy options, --bpffs and --timeout, --unshare-net and --unshare-pid.
  CHECK(checked == 9);
}

}  // namespace
}  // namespace tokenbox
