#include "tools/host_probe.h"

#include "tests/test_support.h"

namespace tokenbox {
namespace {

TEST_CASE("ParseKernelRelease reads major and minor, and refuses junk") {
  int major = 0, minor = 0;
  CHECK(ParseKernelRelease("6.18.44-fc-v669", &major, &minor));
  CHECK(major == 6);
  CHECK(minor == 18);
  CHECK(ParseKernelRelease("6.9", &major, &minor));
  CHECK(minor == 9);
  CHECK(ParseKernelRelease("5.10.0-28-amd64", &major, &minor));
  CHECK(major == 5);
  CHECK_FALSE(ParseKernelRelease("six.nine", &major, &minor));
  CHECK_FALSE(ParseKernelRelease("6", &major, &minor));
}

TEST_CASE("On a privileged machine with Linux >= 6.9 every probe check passes") {
  TB_REQUIRE_PRIVILEGE();
  for (const ProbeCheck& check : ProbeHost()) {
    INFO(check.name, ": ", check.detail, " / ", check.remedy);
    CHECK(check.ok);
    CHECK(check.remedy.empty());
    CHECK_FALSE(check.detail.empty());
  }
}

}  // namespace
}  // namespace tokenbox
