// The `tokenbox` command as a user meets it: exit codes, one-line errors, help, JSON.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "tests/command_runner.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::CommandResult;
using ::tokenbox::testing::RunCommand;

// Tests run from the runfiles root, where the command is at its workspace path.
const std::string& Tokenbox() {
  static const std::string path = "tools/tokenbox";
  return path;
}

using ::tokenbox::testing::Contains;

TEST_CASE("tokenbox with no command prints usage to stderr and exits 2") {
  CommandResult r = RunCommand({Tokenbox()});
  CHECK(r.exit_code == 2);
  CHECK(Contains(r.err, "Usage: tokenbox COMMAND"));
}

TEST_CASE("tokenbox with an unknown command says so in one line and exits 2") {
  CommandResult r = RunCommand({Tokenbox(), "frobnicate"});
  CHECK(r.exit_code == 2);
  CHECK(r.err == "tokenbox: unknown command 'frobnicate' (see tokenbox --help)\n");
}

TEST_CASE("tokenbox --help lists the commands and exits 0") {
  CommandResult r = RunCommand({Tokenbox(), "--help"});
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.out, "probe"));
}

TEST_CASE("tokenbox probe reports every check ok as root, and exits 0") {
  TB_REQUIRE_PRIVILEGE();
  CommandResult r = RunCommand({Tokenbox(), "probe"});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.out, "ok       kernel"));
  CHECK(Contains(r.out, "libbpf"));
  CHECK_FALSE(Contains(r.out, "MISSING"));
  CHECK(Contains(r.out, "tokenbox can run delegated BPF sandboxes here."));
}

TEST_CASE("tokenbox probe reports BPF token support from real checks") {
  TB_REQUIRE_PRIVILEGE();
  CommandResult r = RunCommand({Tokenbox(), "probe"});
  CHECK(Contains(r.out, "ok       BPF token: delegate options"));
  CHECK(Contains(r.out, "ok       BPF token: BTF names"));
  CHECK(Contains(r.out, "ok       BPF token: creation"));
}

TEST_CASE("tokenbox probe --json prints one JSON object") {
  TB_REQUIRE_PRIVILEGE();
  CommandResult r = RunCommand({Tokenbox(), "probe", "--json"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("{\"ok\":true,\"checks\":[{\"name\":\"kernel\"", 0) == 0);
  CHECK(testing::CountLines(r.out) == 1);
}

// probe lists every default and what each opt-out gives up, so that no option of
// tokenbox run gives a protection up unlisted.
TEST_CASE("tokenbox probe lists every default and the option that gives it up") {
  CommandResult r = RunCommand({Tokenbox(), "probe"});
  INFO(r.out);
  CHECK(Contains(r.out, "Every sandbox gets, unless an option of tokenbox run gives it up:\n"));
  CHECK(Contains(r.out, "  a network namespace of its own, loopback only\n"
                        "      --share-net: share tokenbox's network namespace: the program "
                        "reaches the host's network"));
  CHECK(Contains(r.out, "  a devpts instance of its own, at most 64 pseudo-terminals\n"));
  CommandResult help = RunCommand({Tokenbox(), "run", "--help"});
  for (const std::string& line : std::vector<std::string>(absl::StrSplit(help.out, '\n'))) {
    for (const char* prefix : {"  --share-", "  --allow-", "  --no-unshare-"}) {
      if (!absl::StartsWith(line, prefix)) continue;
      const std::string option = line.substr(2, line.find_first_of(" =", 2) - 2);
      CAPTURE(option);
      CHECK(Contains(r.out, "      " + option + ": "));
    }
  }
  CommandResult json = RunCommand({Tokenbox(), "probe", "--json"});
  CHECK(Contains(json.out, "\"defaults\":[{\"protection\":"));
}

TEST_CASE("tokenbox probe with a bad option says so in one line and exits 2") {
  CommandResult r = RunCommand({Tokenbox(), "probe", "--jsn"});
  CHECK(r.exit_code == 2);
  CHECK(r.err == "tokenbox probe: unknown option '--jsn' (see tokenbox probe --help)\n");
  r = RunCommand({Tokenbox(), "probe", "extra"});
  CHECK(r.exit_code == 2);
  CHECK(testing::CountLines(r.err) == 1);
}

// Without root, tokenbox asks tokenboxd; here none answers (a socket path no daemon has).
TEST_CASE("tokenbox probe run by an unprivileged user without a tokenboxd says what is missing") {
  TB_REQUIRE_PRIVILEGE();
  testing::StagedFiles staged({Tokenbox()});
  CommandResult r = RunCommand(
      {staged.path("tokenbox"), "probe"},
      {.uid = 65534, .env = std::vector<std::string>{
                         "PATH=/usr/bin:/bin", "TOKENBOX_SERVICE_SOCKET=" + staged.dir() + "/none"}});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 1);
  CHECK(Contains(r.out, "UNTESTED CAP_SYS_ADMIN in the initial user namespace"));
  CHECK(Contains(r.out, "tokenbox asks tokenboxd"));
  CHECK(Contains(r.out, "MISSING  tokenboxd "));
  CHECK(Contains(r.out, "connect(" + staged.dir() + "/none): ENOENT"));
  CHECK(Contains(r.out, "fix: ask the administrator to start tokenboxd"));
  CHECK(Contains(r.out, "UNTESTED BPF token: creation"));
  CHECK(Contains(r.out, "UNTESTED idmapped writable binds"));
  CHECK_FALSE(Contains(r.out, "MISSING  BPF token"));
}

// fsopen refuses a caller without CAP_SYS_ADMIN with EPERM, which proves the mount API exists:
// only ENOSYS means it is missing.
TEST_CASE("tokenbox probe run by an unprivileged user does not call the mount API missing") {
  TB_REQUIRE_PRIVILEGE();
  testing::StagedFiles staged({Tokenbox()});
  CommandResult r = RunCommand({staged.path("tokenbox"), "probe"}, {.uid = 65534});
  INFO(r.out, r.err);
  CHECK(Contains(r.out, "ok       new mount API"));
  CHECK_FALSE(Contains(r.out, "MISSING  new mount API"));
}

TEST_CASE("tokenbox explain shows the canonical policy, capabilities and warnings") {
  CommandResult r = RunCommand({Tokenbox(), "explain", "--delegate-cmds=PROG_LOAD:0x1",
                                "--delegate-maps", "array,hash", "--delegate-progs=xdp",
                                "--delegate-attachs=any"});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.out, "delegate_cmds     map_create:prog_load\n"));
  CHECK(Contains(r.out, "delegate_maps     hash:array\n"));
  CHECK(Contains(r.out, "delegate_progs    xdp\n"));
  CHECK(Contains(r.out, "delegate_attachs  any\n"));
  CHECK(Contains(r.out, "required caps     cap_net_admin,cap_bpf\n"));
  CHECK(Contains(r.out, "kept caps         cap_bpf\n"));
  CHECK(Contains(r.out, "warning: program types xdp are delegated, but loading them needs "
                        "CAP_NET_ADMIN"));
  CHECK(Contains(r.out, "without btf_load"));
  CHECK(Contains(r.out, "reach: xdp attach to a network namespace and its devices: the sandbox's "
                        "own, which they need (tokenbox refuses them with --share-net)\n"));
}

TEST_CASE("tokenbox explain says in words what program types reach beyond the sandbox") {
  CommandResult r = RunCommand({Tokenbox(), "explain", "--delegate-cmds=prog_load:btf_load",
                                "--delegate-progs=kprobe:lsm:cgroup_skb:socket_filter",
                                "--delegate-attachs=any", "--keep-caps=perfmon,net_admin"});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.out, "reach: kprobe, lsm trace and change the whole machine, which no "
                        "namespace confines: with CAP_PERFMON kept they load, so tokenbox then "
                        "needs --allow-host-tracing\n"));
  CHECK(Contains(r.out, "reach: cgroup_skb attach to cgroups and every process in them"));
  CHECK_FALSE(Contains(r.out, "socket_filter attach"));
  CommandResult json = RunCommand({Tokenbox(), "explain", "--delegate-cmds=prog_load",
                                   "--delegate-progs=sk_lookup", "--json"});
  CHECK(Contains(json.out, "\"reach\":[\"sk_lookup attach to a network namespace"));
}

TEST_CASE("tokenbox explain with --keep-caps=net_admin drops the CAP_NET_ADMIN warning") {
  CommandResult r = RunCommand({Tokenbox(), "explain", "--delegate-cmds=prog_load:btf_load",
                                "--delegate-progs=xdp:socket_filter", "--delegate-attachs=any",
                                "--keep-caps=net_admin"});
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.out, "kept caps         cap_net_admin,cap_bpf\n"));
  CHECK_FALSE(Contains(r.out, "warning"));
}

TEST_CASE("tokenbox explain --json prints one JSON object with masks and any") {
  CommandResult r = RunCommand({Tokenbox(), "explain", "--delegate-cmds=map_create",
                                "--delegate-progs=any", "--json"});
  CHECK(r.exit_code == 0);
  CHECK(testing::CountLines(r.out) == 1);
  CHECK(Contains(r.out, "\"delegate_cmds\":{\"canonical\":\"map_create\",\"mask\":\"0x1\","
                        "\"any\":false}"));
  CHECK(Contains(r.out, "\"delegate_progs\":{\"canonical\":\"any\",\"mask\":"
                        "\"0xffffffffffffffff\",\"any\":true}"));
  CHECK(Contains(r.out, "\"required_caps\":\"cap_net_admin,cap_perfmon,cap_bpf\""));
}

TEST_CASE("tokenbox explain refuses a bad policy in one line, exit 2, and needs no privilege") {
  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  const Case cases[] = {
      {{"--delegate-progs=xpd"},
       "tokenbox explain: delegate_progs: unknown program type 'xpd' (did you mean 'xdp'?)\n"},
      {{"--delegate-maps=any:hash"},
       "tokenbox explain: delegate_maps: 'any' already allows every map type and cannot be "
       "combined with other items in 'any:hash'\n"},
      {{"--keep-caps=net_admn"},
       "tokenbox explain: --keep-caps: unknown capability 'net_admn' (names look like net_admin "
       "or cap_bpf)\n"},
      {{"--delegate-cmds=map_create", "--delegate-cmds=prog_load"},
       "tokenbox explain: option '--delegate-cmds' is given twice; list every item in one "
       "option\n"},
      {{"--delegate-cmd=map_create"},
       "tokenbox explain: unknown option '--delegate-cmd' (see tokenbox explain --help)\n"},
  };
  testing::StagedFiles staged({Tokenbox()});
  for (const Case& c : cases) {
    std::vector<std::string> argv = {staged.path("tokenbox"), "explain"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    CommandResult r = RunCommand(argv, {.uid = 65534});
    INFO(c.args[0]);
    CHECK(r.exit_code == 2);
    CHECK(r.err == c.error);
    CHECK(r.out.empty());
  }
}

TEST_CASE("tokenbox explain --help documents the policy options and exit codes") {
  CommandResult r = RunCommand({Tokenbox(), "explain", "--help"});
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.out, "--delegate-attachs=LIST"));
  CHECK(Contains(r.out, "--keep-caps=LIST"));
  CHECK(Contains(r.out, "Exit status"));
}

}  // namespace
}  // namespace tokenbox
