// The `tokenbox` command as a user meets it: exit codes, one-line errors, help, JSON.
#include <string>

#include "tests/command_runner.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::CommandResult;
using ::tokenbox::testing::RunCommand;
using ::tokenbox::testing::RunfilePath;

const std::string& Tokenbox() {
  static const std::string path = RunfilePath("tools/tokenbox");
  return path;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

int Lines(const std::string& text) {
  int lines = 0;
  for (char c : text) lines += c == '\n';
  return lines;
}

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
  CHECK(Contains(r.out, "ok      kernel"));
  CHECK(Contains(r.out, "libbpf"));
  CHECK_FALSE(Contains(r.out, "MISSING"));
  CHECK(Contains(r.out, "tokenbox can run delegated BPF sandboxes here."));
}

TEST_CASE("tokenbox probe --json prints one JSON object") {
  TB_REQUIRE_PRIVILEGE();
  CommandResult r = RunCommand({Tokenbox(), "probe", "--json"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("{\"ok\":true,\"checks\":[{\"name\":\"kernel\"", 0) == 0);
  CHECK(Lines(r.out) == 1);
}

TEST_CASE("tokenbox probe with a bad option says so in one line and exits 2") {
  CommandResult r = RunCommand({Tokenbox(), "probe", "--jsn"});
  CHECK(r.exit_code == 2);
  CHECK(r.err == "tokenbox probe: unknown option '--jsn' (see tokenbox probe --help)\n");
  r = RunCommand({Tokenbox(), "probe", "extra"});
  CHECK(r.exit_code == 2);
  CHECK(Lines(r.err) == 1);
}

TEST_CASE("tokenbox probe run by an unprivileged user reports the missing privilege and exits 1") {
  TB_REQUIRE_PRIVILEGE();
  std::string copy = testing::CopyForOtherUsers(Tokenbox());
  REQUIRE_FALSE(copy.empty());
  CommandResult r = RunCommand({copy, "probe"}, {.uid = 65534});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 1);
  CHECK(Contains(r.out, "MISSING CAP_SYS_ADMIN in the initial user namespace"));
  CHECK(Contains(r.out, "run tokenbox as root"));
  std::remove(copy.c_str());
  std::remove(copy.substr(0, copy.rfind('/')).c_str());
}

}  // namespace
}  // namespace tokenbox
