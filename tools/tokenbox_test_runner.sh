#!/usr/bin/env bash
# Runs a test binary inside a delegated tokenbox sandbox, for the tokenbox_test rule
# (tools/defs.bzl).
# Usage: tokenbox_test_runner.sh TOKENBOX TEST_BINARY [TOKENBOX RUN OPTIONS...] -- [TEST ARGS...]
#
# The sandbox runs as an unprivileged host user, who cannot enter Bazel's output tree (under
# root's home). So the test's runfiles are copied into a fresh directory, with a writable
# TEST_TMPDIR and undeclared-outputs directory beside them, and removed afterwards. That
# directory is the runner's alone (0700): the sandbox reaches what is in it through binds at the
# same paths, made in its own /tmp, and no other host user reaches it at all. The sandbox sees
# the host read-only, with /tmp its own: the runfiles are bound in read-only, the two directories
# writable, and nothing else of the host is writable. What the test leaves in its outputs
# directory is copied to Bazel's: directories and regular files (a hard link can only name one
# of the test's own: the outputs are a mount of their own inside), never a symlink, which
# Bazel's zip would follow; what is left out is named on stderr. The test's
# output and exit code pass through; a set-up failure fails the test with tokenbox's one-line
# message.
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
outputs="$stage/outputs"
mkdir -p "$runfiles" "$stage/tmp" "$outputs"
# -L: Bazel's runfiles are symlinks into the output tree, which the sandbox cannot follow.
cp -RL "${RUNFILES_DIR:-$TEST_SRCDIR}/." "$runfiles/"
chmod -R a+rX "$stage"
chmod 1777 "$stage/tmp" "$outputs"
chmod 700 "$stage"

workspace_dir="$runfiles/${TEST_WORKSPACE:-}"
status=0
"$tokenbox" run --ro-bind "$runfiles" "$runfiles" --bind "$stage/tmp" "$stage/tmp" \
  --bind "$outputs" "$outputs" --chdir="$workspace_dir" --setenv=TEST_TMPDIR="$stage/tmp" \
  --setenv=TEST_UNDECLARED_OUTPUTS_DIR="$outputs" \
  --setenv=TEST_SRCDIR="$runfiles" --setenv=RUNFILES_DIR="$runfiles" \
  --unsetenv=XML_OUTPUT_FILE "${options[@]}" -- "$workspace_dir/$test_binary" "$@" || status=$?
if [ -n "${TEST_UNDECLARED_OUTPUTS_DIR:-}" ] && [ -d "$TEST_UNDECLARED_OUTPUTS_DIR" ]; then
  # The sandbox is gone by now: nothing changes what is checked here before it is copied.
  while IFS= read -r -d '' path; do
    if [ -d "$outputs/$path" ] && [ ! -L "$outputs/$path" ]; then
      mkdir -p -- "$TEST_UNDECLARED_OUTPUTS_DIR/$path"
    elif [ -f "$outputs/$path" ] && [ ! -L "$outputs/$path" ]; then
      cp --no-dereference -- "$outputs/$path" "$TEST_UNDECLARED_OUTPUTS_DIR/$path"
    else
      printf "tokenbox_test: left out of the test's outputs: %q (not a directory or regular file:" \
        "${path#./}" >&2
      echo " links are not followed)" >&2
    fi
  done < <(cd "$outputs" && find . -mindepth 1 -print0)
fi
exit "$status"
