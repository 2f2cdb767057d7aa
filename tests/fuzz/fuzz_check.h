#ifndef TOKENBOX_TESTS_FUZZ_FUZZ_CHECK_H_
#define TOKENBOX_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>
#include <string>

// Stops the process when an invariant of the code under test breaks. An abort is what both
// drivers understand: libFuzzer turns it into a crash artifact holding the input, and the replay
// test dies without doctest's summary, which tools/dev counts as a failure. The message goes to
// stderr first so that the report says which invariant broke, not just where.
#define TB_FUZZ_CHECK(condition, what)                                             \
  do {                                                                             \
    if (!(condition)) {                                                            \
      std::fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n  (%s)\n", __FILE__, \
                   __LINE__, std::string(what).c_str(), #condition);               \
      std::abort();                                                                \
    }                                                                              \
  } while (0)

#endif  // TOKENBOX_TESTS_FUZZ_FUZZ_CHECK_H_
