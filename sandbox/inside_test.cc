#include "sandbox/inside.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "ns/unique_fd.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

TEST_CASE("Outside a sandbox CurrentSandbox says so plainly") {
  unsetenv(kTokenFdEnv);
  auto sandbox = CurrentSandbox();
  REQUIRE_FALSE(sandbox.ok());
  CHECK(sandbox.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(sandbox.status().message()).find("not running in a tokenbox sandbox") !=
        std::string::npos);
}

TEST_CASE("A TOKENBOX_TOKEN_FD that is not a number, or not a token, is refused") {
  setenv(kTokenFdEnv, "three", 1);
  CHECK(CurrentSandbox().status().code() == absl::StatusCode::kFailedPrecondition);
  UniqueFd not_a_token(open("/dev/null", O_RDONLY | O_CLOEXEC));
  REQUIRE(not_a_token.valid());
  setenv(kTokenFdEnv, absl::StrCat(not_a_token.get()).c_str(), 1);
  auto sandbox = CurrentSandbox();
  CHECK(sandbox.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(sandbox.status().message()).find("is not an open BPF token") !=
        std::string::npos);
  unsetenv(kTokenFdEnv);
}

}  // namespace
}  // namespace tokenbox
