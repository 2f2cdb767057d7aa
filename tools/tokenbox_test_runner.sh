#!/usr/bin/env bash
# Runs a test binary inside a delegated tokenbox sandbox, for the tokenbox_test rule
# (tools/defs.bzl).
# Usage: tokenbox_test_runner.sh TOKENBOX TEST_BINARY [TOKENBOX RUN OPTIONS...] -- [TEST ARGS...]
#
# The sandbox runs as an unprivileged host user, who cannot enter Bazel's output tree (under
# root's home). So the test's runfiles are copied into a fresh directory that user can read,
# with a writable TEST_TMPDIR beside them, and removed afterwards. The test's output and exit
# code pass through; a set-up failure fails the test with tokenbox's one-line message.
set -euo pipefail

tokenbox=$(readlink -f "$1")
test_binary=$2
shift 2
options=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  options+=("$1")
  shift
done
[ $# -gt 0 ] && shift  # The "--".

stage=$(mktemp -d /tmp/tokenbox-bazel-test.XXXXXX)
trap 'rm -rf "$stage"' EXIT
runfiles="$stage/runfiles"
mkdir -p "$runfiles" "$stage/tmp"
# -L: Bazel's runfiles are symlinks into the output tree, which the sandbox cannot follow.
cp -RL "${RUNFILES_DIR:-$TEST_SRCDIR}/." "$runfiles/"
chmod -R a+rX "$stage"
chmod 1777 "$stage/tmp"

workspace_dir="$runfiles/${TEST_WORKSPACE:-}"
status=0
"$tokenbox" run --chdir="$workspace_dir" --setenv=TEST_TMPDIR="$stage/tmp" \
  --setenv=TEST_SRCDIR="$runfiles" --setenv=RUNFILES_DIR="$runfiles" \
  --unsetenv=XML_OUTPUT_FILE "${options[@]}" -- "$workspace_dir/$test_binary" "$@" || status=$?
exit "$status"
