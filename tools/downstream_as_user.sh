#!/usr/bin/env bash
# examples/downstream as a developer who is not root runs it: `bazel test` (its tokenbox_test)
# and `bazel run //:launch_true` (a program that links the library), both through a tokenboxd
# this script starts on a socket of its own, with a policy that grants the user one line.
# The user is made for the run (useradd, with a home for Bazel's output base) and removed after,
# with the daemon, its socket directory and the user's copy of the source tree.
#
# Usage (as root, from the source tree): tools/downstream_as_user.sh
# Exit status: 0 when both pass through the daemon, 1 otherwise (the line before says why).
set -euo pipefail

readonly ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly USER_NAME=tbx-downstream
say() { echo "downstream as $USER_NAME: $*"; }
fail() {
  echo "downstream as $USER_NAME: $*" >&2
  exit 1
}

[ "$(id -u)" = 0 ] || fail "needs root: it makes a user and starts tokenboxd"
cd "$ROOT"
bazel build //tools:tokenboxd
tokenboxd_binary="$(bazel info bazel-bin 2>/dev/null)/tools/tokenboxd"

# Everything the run makes, and its removal, whatever happens.
service_dir=$(mktemp -d /run/tokenbox-downstream.XXXXXX)
daemon_pid=''
cleanup() {
  if [ -n "$daemon_pid" ]; then
    kill "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  if id "$USER_NAME" >/dev/null 2>&1; then
    pkill -KILL -u "$USER_NAME" 2>/dev/null || true
    userdel -r "$USER_NAME" 2>/dev/null || true
  fi
  rm -rf "$service_dir"
}
trap cleanup EXIT
if id "$USER_NAME" >/dev/null 2>&1; then
  fail "a user $USER_NAME exists already (left by an earlier run?): userdel -r $USER_NAME"
fi
home=$(mktemp -u /var/lib/tokenbox-downstream-home.XXXXXX)
useradd --create-home --home-dir "$home" --shell /bin/bash "$USER_NAME"
chmod 700 "$home"

# The user's own copy of the source tree (root's may be where the user cannot read it).
tar -C "$ROOT" --exclude='./bazel-*' --exclude='./examples/downstream/bazel-*' --exclude='./.git' \
  -cf - . | su -s /bin/sh "$USER_NAME" -c "mkdir -p '$home/src' && tar -C '$home/src' -xf -"

chmod 755 "$service_dir"
policy="$service_dir/delegation.conf"
echo "$USER_NAME cmds=map_create maps=array" >"$policy"
chmod 644 "$policy"
socket="$service_dir/tokenboxd.sock"
log="$service_dir/tokenboxd.log"
# Its first line says it listens, or why it cannot; the rest is kept in $log.
coproc DAEMON { exec "$tokenboxd_binary" --socket="$socket" --policy="$policy" 2>&1; }
daemon_pid=$DAEMON_PID
# A copy of the coprocess's fd: bash closes the coprocess's own in the background job below.
exec {daemon_output}<&"${DAEMON[0]}"
first=''
IFS= read -r -t 60 first <&"$daemon_output" || true
[[ "$first" == "tokenboxd: listening on $socket"* ]] || fail "tokenboxd did not start: $first"
cat <&"$daemon_output" >"$log" &

say "bazel test //... and bazel run //:launch_true, through tokenboxd at $socket"
status=0
su -s /bin/bash "$USER_NAME" -c "
  set -e
  cd '$home/src/examples/downstream'
  export TOKENBOX_SERVICE_SOCKET='$socket'
  bazel test --test_env=TOKENBOX_SERVICE_SOCKET='$socket' --test_output=errors //...
  bazel run //:launch_true
  bazel shutdown
" || status=$?
uid=$(id -u "$USER_NAME")
granted=$(grep -c "uid $uid ($USER_NAME).*: granted: " "$log") || granted=0
if [ "$status" != 0 ]; then
  tail -n 5 "$log" | sed 's/^/  tokenboxd: /' >&2
  fail "bazel as $USER_NAME failed (exit $status)"
fi
# The test and the program each went through the daemon, not around it.
[ "$granted" -ge 2 ] || fail "tokenboxd granted $granted requests of $USER_NAME's, not 2: $(tail -n 3 "$log")"
say "ok: both passed, with $granted launches granted by tokenboxd"
