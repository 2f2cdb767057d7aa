#include "tools/rlimit_option.h"

#include <sys/resource.h>

#include <string>

#include "tests/test_support.h"

namespace tokenbox {
namespace {

TEST_CASE("--rlimit takes prlimit's names and values, and one value sets both limits") {
  auto both = ParseRlimitOption("nofile=64");
  TB_REQUIRE_OK(both);
  CHECK(both->resource == RLIMIT_NOFILE);
  CHECK(both->soft == 64u);
  CHECK(both->hard == 64u);
  auto pair = ParseRlimitOption("NPROC=10:unlimited");
  TB_REQUIRE_OK(pair);
  CHECK(pair->resource == RLIMIT_NPROC);
  CHECK(pair->soft == 10u);
  CHECK(pair->hard == RLIM_INFINITY);
  auto core = ParseRlimitOption("core=0");
  TB_REQUIRE_OK(core);
  CHECK(core->resource == RLIMIT_CORE);
}

TEST_CASE("--rlimit keeps tokenbox's own limit for a value left out") {
  rlimit own = {};
  REQUIRE(getrlimit(RLIMIT_STACK, &own) == 0);
  auto soft_only = ParseRlimitOption("stack=4096:");
  TB_REQUIRE_OK(soft_only);
  CHECK(soft_only->soft == 4096u);
  CHECK(soft_only->hard == own.rlim_max);
  auto hard_only = ParseRlimitOption("stack=:" + std::to_string(own.rlim_cur));
  TB_REQUIRE_OK(hard_only);
  CHECK(hard_only->soft == own.rlim_cur);
}

TEST_CASE("A malformed --rlimit is one line that says what is wrong") {
  const struct {
    const char* text;
    const char* says;
  } kBad[] = {
      {"nofile", "is not NAME=SOFT[:HARD]"},
      {"files=10", "no resource limit is called 'files' (one of as, core, cpu"},
      {"nofile=ten", "soft limit 'ten' is not a number"},
      {"nofile=1:x", "hard limit 'x' is not a number"},
      {"nofile=-1", "is not a number"},
      {"nofile=:", "gives no limit"},
      {"nofile=64:32", "the soft limit exceeds the hard limit"},
  };
  for (const auto& bad : kBad) {
    CAPTURE(bad.text);
    auto parsed = ParseRlimitOption(bad.text);
    REQUIRE_FALSE(parsed.ok());
    const std::string message(parsed.status().message());
    CHECK(message.find(bad.says) != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
}

}  // namespace
}  // namespace tokenbox
