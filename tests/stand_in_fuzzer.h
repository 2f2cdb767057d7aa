#ifndef TOKENBOX_TESTS_STAND_IN_FUZZER_H_
#define TOKENBOX_TESTS_STAND_IN_FUZZER_H_

namespace tokenbox::testing {

// A script that behaves as libFuzzer does at the edges, for `tokenbox fuzz` tests. Called as
// libFuzzer would be (... -artifact_prefix=DIR/ CORPUS), it writes one corpus entry, tries the
// host's /etc, then "crashes" as libFuzzer reports a crash, with its input in DIR/crash-1234,
// and exits 77.
inline constexpr char kStandInFuzzer[] = R"(#!/bin/sh
for arg; do
  case "$arg" in
    -artifact_prefix=*) prefix=${arg#-artifact_prefix=} ;;
    -*) ;;
    *) corpus=$arg ;;
  esac
done
echo seed > "$corpus/new-entry" && echo "corpus writable" >&2
touch /etc/tokenbox-fuzz-escape 2>/dev/null && echo "HOST WRITABLE" >&2
echo "cwd=$(pwd) tmpdir=$TMPDIR" >&2
echo "==2== ERROR: libFuzzer: deadly signal" >&2
echo crash > "${prefix}crash-1234"
echo "artifact_prefix='$prefix'; Test unit written to ${prefix}crash-1234" >&2
exit 77
)";

}  // namespace tokenbox::testing

#endif  // TOKENBOX_TESTS_STAND_IN_FUZZER_H_
