// doctest's main for every tokenbox test binary. After doctest's own summary it prints the tests
// that returned early because this machine cannot run them (tests/test_support.h), so that the
// totals tools/dev prints never count a skipped test as passed.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "tests/test_support.h"

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  int result = context.run();
  if (context.shouldExit()) return result;
  tokenbox::testing::PrintRuntimeSkips();
  return result;
}
