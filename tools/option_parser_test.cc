#include "tools/option_parser.h"

#include <string>
#include <vector>

#include "tests/test_support.h"

namespace tokenbox {
namespace {

enum { kJson = 1, kCmds = 2, kMap = 3, kBind = 4 };
const OptionSpec kSpecs[] = {
    {"json", 0, kJson},
    {"delegate-cmds", 1, kCmds},
    {"map-users", 1, kMap},
    {"bind", 2, kBind},
};

absl::StatusOr<CommandLine> Parse(std::vector<std::string> args) {
  static std::vector<std::string> storage;
  storage = std::move(args);
  storage.insert(storage.begin(), "cmd");
  static std::vector<char*> argv;
  argv.clear();
  for (std::string& s : storage) argv.push_back(s.data());
  return ParseCommandLine(static_cast<int>(argv.size()), argv.data(), kSpecs);
}

TEST_CASE("An option of two values takes the next two arguments, and nothing less") {
  auto line = Parse({"--bind", "/src", "/dest", "--json", "prog"});
  TB_REQUIRE_OK(line);
  REQUIRE(line->options.size() == 2);
  CHECK(line->options[0].id == kBind);
  CHECK(line->options[0].value == "/src");
  CHECK(line->options[0].second_value == "/dest");
  CHECK(line->operands == std::vector<std::string>{"prog"});
  for (std::vector<std::string> bad : {std::vector<std::string>{"--bind", "/src"},
                                       {"--bind=/src", "/dest"},
                                       {"--bind", "/src", "--", "prog"}}) {
    auto refused = Parse(bad);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().message() ==
          "option '--bind' needs two values, each after a space");
  }
}

TEST_CASE("--name=value and --name value both work, repeats are kept in order") {
  auto line = Parse({"--delegate-cmds=map_create", "--map-users", "0:1:1", "--map-users=1:2:1",
                     "--json"});
  TB_REQUIRE_OK(line);
  REQUIRE(line->options.size() == 4);
  CHECK(line->options[0].id == kCmds);
  CHECK(line->options[0].value == "map_create");
  CHECK(line->options[1].value == "0:1:1");
  CHECK(line->options[2].value == "1:2:1");
  CHECK(line->options[3].id == kJson);
  CHECK(line->operands.empty());
}

TEST_CASE("Parsing stops at -- and at the first operand; the program's options stay its own") {
  auto line = Parse({"--json", "--", "/bin/prog", "--json", "-x"});
  TB_REQUIRE_OK(line);
  CHECK(line->saw_double_dash);
  CHECK(line->options.size() == 1);
  CHECK(line->operands == std::vector<std::string>{"/bin/prog", "--json", "-x"});
  line = Parse({"/bin/prog", "--json"});
  TB_REQUIRE_OK(line);
  CHECK_FALSE(line->saw_double_dash);
  CHECK(line->options.empty());
  CHECK(line->operands.size() == 2);
}

TEST_CASE("Unknown options, abbreviations, missing and unexpected values are one-line errors") {
  CHECK(Parse({"--jsn"}).status().message() == "unknown option '--jsn'");
  CHECK(Parse({"--js"}).status().message() == "unknown option '--js'");
  CHECK(Parse({"-j"}).status().message() == "unknown option '-j' (options are long: --name)");
  CHECK(Parse({"--delegate-cmds"}).status().message() ==
        "option '--delegate-cmds' needs a value (--delegate-cmds=VALUE)");
  // "--" is where the program starts, never an option's value.
  CHECK(Parse({"--delegate-cmds", "--", "/bin/true"}).status().message() ==
        "option '--delegate-cmds' needs a value (--delegate-cmds=VALUE)");
  auto explicit_value = Parse({"--delegate-cmds=--", "--", "/bin/true"});
  REQUIRE(explicit_value.ok());
  CHECK(explicit_value->options[0].value == "--");
  CHECK(Parse({"--json=yes"}).status().message() == "option '--json' takes no value");
}

TEST_CASE("A huge or non-text option name is shown short and printable") {
  std::string huge = "--" + std::string(1 << 20, 'a');
  std::string message(Parse({huge}).status().message());
  CHECK(message.size() < 120);
  CHECK(message.find("bytes)") != std::string::npos);
  CHECK(Parse({"--\xff\xfe"}).status().message() == "unknown option '--\\xff\\xfe'");
}

TEST_CASE("An empty value is a value") {
  auto line = Parse({"--delegate-cmds="});
  TB_REQUIRE_OK(line);
  CHECK(line->options[0].value.empty());
}

}  // namespace
}  // namespace tokenbox
