#include "tests/test_support.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "token/process_capabilities.h"

namespace tokenbox::testing {
namespace {

std::vector<std::pair<std::string, std::string>>& Skips() {
  static auto* skips = new std::vector<std::pair<std::string, std::string>>();
  return *skips;
}

std::string& CurrentTestName() {
  static auto* name = new std::string();
  return *name;
}

// Tracks the running test case, so that a skip can name it.
struct SkipListener : ListenerBase {
  explicit SkipListener(const doctest::ContextOptions&) {}
  void test_case_start(const doctest::TestCaseData& data) override {
    CurrentTestName() = data.m_name;
  }
};
REGISTER_LISTENER("tokenbox-skips", 1, SkipListener);

}  // namespace

bool RunningUnderCi() {
  const char* ci = getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

std::string WhyNotPrivileged() {
  if (geteuid() != 0) return absl::StrCat("not root (euid ", geteuid(), ")");
  return WhyCannotDelegate();
}

void RecordRuntimeSkip(const std::string& reason) {
  Skips().emplace_back(CurrentTestName(), reason);
  MESSAGE("skipped at run time: " << reason);
}

void PrintRuntimeSkips() {
  for (const auto& [test, reason] : Skips()) {
    std::printf("tokenbox-tests: skipped '%s': %s\n", test.c_str(), reason.c_str());
  }
  std::printf("tokenbox-tests: %zu skipped at run time\n", Skips().size());
  std::fflush(stdout);
}

}  // namespace tokenbox::testing
