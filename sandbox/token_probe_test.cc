#include "sandbox/token_probe.h"

#include "tests/test_support.h"

namespace tokenbox {
namespace {

TEST_CASE("On Linux >= 6.9 as root, every token support check passes") {
  TB_REQUIRE_PRIVILEGE();
  TokenSupport support = ProbeTokenSupport();
  TB_CHECK_OK(support.delegate_options);
  TB_CHECK_OK(support.btf_names);
  TB_CHECK_OK(support.token);
}

}  // namespace
}  // namespace tokenbox
