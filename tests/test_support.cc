#include "tests/test_support.h"

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ns/privilege.h"

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
struct SkipListener : doctest::IReporter {
  explicit SkipListener(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_start(const doctest::TestCaseData& data) override {
    CurrentTestName() = data.m_name;
  }
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
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

int CountOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int count = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;  // The directory stream's own fd.
}

bool HasMountAt(const std::string& path, const std::string& fstype) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mountinfo, line)) {
    // "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
    std::vector<std::string> fields = absl::StrSplit(line, ' ');
    if (fields.size() < 5 || fields[4] != path) continue;
    if (fstype.empty()) return true;
    for (size_t i = 5; i + 1 < fields.size(); ++i) {
      if (fields[i] == "-" && fields[i + 1] == fstype) return true;
    }
  }
  return false;
}

}  // namespace tokenbox::testing
