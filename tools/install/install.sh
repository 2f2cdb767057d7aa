#!/usr/bin/env bash
# Installs what tools/dev builds, or removes what an earlier install put there.
#
#   install.sh install   [--prefix=DIR] [--sysconfdir=DIR] [--no-start] --from=ROOT...
#   install.sh uninstall [--prefix=DIR] [--no-start]
#
# install puts tokenbox in PREFIX/bin, tokenboxd in PREFIX/sbin, the systemd units in
# PREFIX/lib/systemd/system, the library (libtokenbox.a, its headers under
# PREFIX/include/tokenbox, tokenbox.pc) in PREFIX/lib, and, only where none exists, a policy that
# grants nothing in SYSCONFDIR/tokenbox/delegation.conf. Each file is looked up in the --from
# roots in turn (tools/dev gives bazel-bin, then the source tree). What it installed is listed in
# PREFIX/share/tokenbox/installed-files, which uninstall reads: it removes those files, the
# directories install made, and the policy if it is still the example. Running install again
# first removes what the last one installed, so it is idempotent. Where systemd is pid 1, install
# enables and starts tokenboxd.socket (and uninstall stops it) unless --no-start; elsewhere it
# says how to start the daemon.
#
# Exit status: 0 done, 1 failed (the line before says why), 2 usage error.
set -euo pipefail

ME="tools/dev ${1:-install}"
readonly EXAMPLE_POLICY='# tokenboxd: who may have it start which delegated BPF sandboxes, one grant a line.
# Read for each request; see `tokenbox policy --help`, and check an edit with
# `tokenbox policy check`. A line names a user, @group or *, then what it grants, e.g.
#
#   alice    cmds=map_create:prog_load:btf_load maps=array:hash progs=socket_filter attachs=any
#   @bpfdev  cmds=map_create:btf_load maps=array caps=net_admin
#
# As installed, it grants nothing to anyone.
*  -
'

fail() {
  echo "$ME: $*" >&2
  exit 1
}

usage_error() {
  echo "$ME: $* (see tools/dev --help)" >&2
  exit 2
}

action=${1:-}
[ "$action" = install ] || [ "$action" = uninstall ] || usage_error "give install or uninstall"
shift
prefix=/usr/local
sysconfdir=/etc
start=1
roots=()
for arg in "$@"; do
  case "$arg" in
    --prefix=/*) prefix=${arg#--prefix=} ;;
    --sysconfdir=/*) sysconfdir=${arg#--sysconfdir=} ;;
    --prefix=*|--sysconfdir=*) usage_error "${arg%%=*} takes an absolute path, not '${arg#*=}'" ;;
    --no-start) start=0 ;;
    --from=*) roots+=("${arg#--from=}") ;;
    *) usage_error "unknown argument '$arg'" ;;
  esac
done
prefix=${prefix%/}
sysconfdir=${sysconfdir%/}
case "$prefix$sysconfdir" in
  *[[:space:]]*) usage_error "--prefix and --sysconfdir take paths without spaces" ;;
esac
[ "$(id -u)" = 0 ] || fail "needs root: tokenboxd is a root service, and its policy must be root's (run it with sudo)"

readonly manifest="$prefix/share/tokenbox/installed-files"
readonly unit_dir="$prefix/lib/systemd/system"

systemd_runs() {
  [ -d /run/systemd/system ]
}

# The first --from root that has `path`.
find_built() {
  local path=$1 root
  for root in "${roots[@]}"; do
    if [ -f "$root/$path" ]; then
      echo "$root/$path"
      return 0
    fi
  done
  fail "$path is in none of ${roots[*]} (build it first: tools/dev install builds everything)"
}

# Makes each missing directory up to `dir`, root's and 0755, and lists the ones it made.
make_dirs() {
  local dir=$1 missing=()
  while [ ! -d "$dir" ]; do
    missing=("$dir" "${missing[@]}")
    dir=$(dirname "$dir")
  done
  for dir in "${missing[@]}"; do
    install -d -m 755 -o root -g root "$dir"
    echo "dir $dir" >>"$listed"
  done
}

# Installs `source` as `target` with `mode`, and lists it.
put() {
  local source=$1 target=$2 mode=$3
  make_dirs "$(dirname "$target")"
  install -m "$mode" -o root -g root "$source" "$target"
  echo "file $target" >>"$listed"
}

# The project's headers that `headers` include, and those, by the #include "..." lines of each.
header_closure() {
  local -A seen=()
  local queue=("$@") header included
  while [ "${#queue[@]}" -gt 0 ]; do
    header=${queue[0]}
    queue=("${queue[@]:1}")
    [ -z "${seen[$header]:-}" ] || continue
    seen[$header]=1
    echo "$header"
    while IFS= read -r included; do
      queue+=("$included")
    done < <(sed -nE 's/^#include "((ns|sandbox|token)\/[^"]+)".*/\1/p' "$(find_built "$header")")
  done
}

remove_installed() {
  [ -f "$manifest" ] || return 0
  local kind path sum dirs=()
  while read -r kind path sum; do
    case "$kind" in
      file) rm -f -- "$path" ;;
      config)
        if [ "$(sha256sum <"$path" 2>/dev/null | cut -d' ' -f1)" = "$sum" ]; then
          rm -f -- "$path"
        elif [ -e "$path" ]; then
          echo "$ME: kept $path, which was edited after it was installed" >&2
        fi
        ;;
      dir) dirs=("$path" "${dirs[@]}") ;;
    esac
  done <"$manifest"
  rm -f -- "$manifest"
  # Deepest first: they were listed shallowest first.
  local dir
  for dir in "${dirs[@]}"; do
    rmdir -- "$dir" 2>/dev/null || true
  done
}

stop_service() {
  if [ "$start" = 1 ] && systemd_runs && [ -f "$unit_dir/tokenboxd.socket" ]; then
    systemctl disable --now tokenboxd.socket tokenboxd.service >/dev/null 2>&1 || true
  fi
}

do_install() {
  [ "${#roots[@]}" -gt 0 ] || usage_error "give --from=ROOT, where the built files are"
  # Every source found before anything changes, so that a missing one changes nothing.
  local tokenbox tokenboxd archive pc_template header headers=() sources=() unit
  tokenbox=$(find_built tools/tokenbox)
  tokenboxd=$(find_built tools/tokenboxd)
  archive=$(find_built tools/install/libtokenbox.a)
  pc_template=$(find_built tools/install/tokenbox.pc.in)
  for unit in tokenboxd.service tokenboxd.socket; do
    sources+=("$(find_built "tools/install/$unit")")
  done
  mapfile -t public < "$(find_built tools/install/libtokenbox.headers)"
  mapfile -t headers < <(header_closure "${public[@]}")
  local scratch
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' RETURN
  # What this install puts in place, put in place itself last.
  listed="$scratch/installed-files"
  : >"$listed"
  stop_service
  remove_installed
  put "$tokenbox" "$prefix/bin/tokenbox" 755
  put "$tokenboxd" "$prefix/sbin/tokenboxd" 755
  for unit in "${sources[@]}"; do
    sed -e "s|@SBINDIR@|$prefix/sbin|g" -e "s|@POLICY@|$sysconfdir/tokenbox/delegation.conf|g" \
      "$unit" >"$scratch/${unit##*/}"
    put "$scratch/${unit##*/}" "$unit_dir/${unit##*/}" 644
  done
  put "$archive" "$prefix/lib/libtokenbox.a" 644
  sed -e "s|@PREFIX@|$prefix|g" "$pc_template" >"$scratch/tokenbox.pc"
  put "$scratch/tokenbox.pc" "$prefix/lib/pkgconfig/tokenbox.pc" 644
  for header in "${headers[@]}"; do
    put "$(find_built "$header")" "$prefix/include/tokenbox/$header" 644
  done
  local policy="$sysconfdir/tokenbox/delegation.conf"
  if [ -e "$policy" ]; then
    echo "$ME: kept the policy $policy as it is"
  else
    make_dirs "$(dirname "$policy")"
    printf '%s' "$EXAMPLE_POLICY" >"$scratch/delegation.conf"
    install -m 644 -o root -g root "$scratch/delegation.conf" "$policy"
    echo "config $policy $(sha256sum <"$policy" | cut -d' ' -f1)" >>"$listed"
    echo "$ME: wrote $policy, which grants nothing: add a line for each user or group"
  fi
  make_dirs "$(dirname "$manifest")"
  install -m 644 -o root -g root "$listed" "$manifest"
  echo "$ME: installed into $prefix ($(grep -c '^file ' "$manifest") files, listed in $manifest)"
  if [ "$start" = 1 ] && systemd_runs; then
    systemctl daemon-reload
    systemctl enable --now tokenboxd.socket
    echo "$ME: tokenboxd.socket is enabled and listening at /run/tokenbox/tokenboxd.sock"
  elif [ "$start" = 1 ]; then
    echo "$ME: systemd is not pid 1 here, so nothing starts tokenboxd: start it as root" \
      "($prefix/sbin/tokenboxd --policy=$policy; it listens at /run/tokenbox/tokenboxd.sock" \
      "and logs one line per request to stderr)"
  fi
}

do_uninstall() {
  [ "${#roots[@]}" = 0 ] || usage_error "uninstall takes no --from"
  [ -f "$manifest" ] || fail "nothing to uninstall: $manifest does not exist"
  stop_service
  remove_installed
  if [ "$start" = 1 ] && systemd_runs; then systemctl daemon-reload; fi
  echo "$ME: removed what was installed into $prefix"
}

if [ "$action" = install ]; then do_install; else do_uninstall; fi
