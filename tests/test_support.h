#ifndef TOKENBOX_TESTS_TEST_SUPPORT_H_
#define TOKENBOX_TESTS_TEST_SUPPORT_H_

#include <sys/types.h>

#include <ostream>
#include <string>

#include <doctest/doctest.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ns/run_in_child.h"
#include "tests/process_state.h"

// Lets doctest print a Status in a failed CHECK.
namespace absl {
inline std::ostream& operator<<(std::ostream& os, const Status& status) {
  return os << status.ToString();
}
}  // namespace absl

namespace tokenbox::testing {

inline const absl::Status& ToStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& ToStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

// The status is copied: `expr` may be a temporary StatusOr.
#define TB_CHECK_OK(expr)                                                   \
  do {                                                                      \
    const ::absl::Status tb_status_ = ::tokenbox::testing::ToStatus(expr); \
    CHECK_MESSAGE(tb_status_.ok(), tb_status_.ToString());                  \
  } while (0)

#define TB_REQUIRE_OK(expr)                                                 \
  do {                                                                      \
    const ::absl::Status tb_status_ = ::tokenbox::testing::ToStatus(expr); \
    REQUIRE_MESSAGE(tb_status_.ok(), tb_status_.ToString());                \
  } while (0)

// A doctest listener that ignores every event; listeners override only the ones they need.
struct ListenerBase : doctest::IReporter {
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

// True when the environment says CI=true: then a test that cannot run here must fail, not skip.
bool RunningUnderCi();

// Empty when this process can set up delegation (root with CAP_SYS_ADMIN in the initial user
// namespace); otherwise why not.
std::string WhyNotPrivileged();

// Records a test that returned early because this machine cannot run it. The count and reasons
// are printed after doctest's summary, and tools/dev subtracts them from "passed".
void RecordRuntimeSkip(const std::string& reason);
void PrintRuntimeSkips();

// Forked-child runs for tests are ns/run_in_child.h's RunInChild.
using ::tokenbox::RunInChild;

// Whether `haystack` contains `needle`; and how many lines `text` has. For checking output.
inline bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}
inline int CountLines(const std::string& text) {
  int lines = 0;
  for (char c : text) lines += c == '\n';
  return lines;
}


}  // namespace tokenbox::testing

// Skips the rest of the test case (locally, with its reason) or fails it (under CI=true) when this
// process cannot set up delegation.
#define TB_REQUIRE_PRIVILEGE()                                                      \
  do {                                                                              \
    std::string tb_why_ = ::tokenbox::testing::WhyNotPrivileged();                  \
    if (!tb_why_.empty()) {                                                         \
      if (::tokenbox::testing::RunningUnderCi()) FAIL("needs privilege: " << tb_why_); \
      ::tokenbox::testing::RecordRuntimeSkip(tb_why_);                              \
      return;                                                                       \
    }                                                                               \
  } while (0)

#endif  // TOKENBOX_TESTS_TEST_SUPPORT_H_
