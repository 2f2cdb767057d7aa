#!/usr/bin/env bash
# Installs what a tokenbox job needs, and nothing that is already there.
#
#   install-deps.sh [JOB...]   JOB: build (the default), test, fuzz, bench
#
# build: Bazel, the compilers (clang builds the BPF objects), libcap, Abseil, libseccomp (for
#        --deny-syscalls), and libbpf >= 1.4 with the uapi headers from bookworm-backports.
#        Every other job needs it too.
# test:  doctest; strace for fault injection; iproute2; a bpftool that knows tokens (backports);
#        xdp-tools, whose xdp-loader (which keeps its lock file under /run) a test runs inside.
# fuzz:  clang's libFuzzer and sanitizer runtimes.
# bench: the peers it is measured against: bubblewrap and util-linux's unshare.
#
# Idempotent: a second run on a ready machine does no apt work at all.
# Needs root (apt). Works offline apart from Debian's own archive.
set -euo pipefail

# Packages from the release itself, by job.
readonly BUILD_PACKAGES=(bazel-bootstrap openjdk-17-jdk-headless g++ clang libcap-dev libabsl-dev
  libseccomp-dev)
readonly TEST_PACKAGES=(doctest-dev strace iproute2 util-linux xdp-tools pkg-config)
readonly FUZZ_PACKAGES=(libclang-rt-14-dev)
readonly BENCH_PACKAGES=(bubblewrap util-linux)
# Packages that must come from bookworm-backports: libbpf >= 1.4 (token API) and uapi headers
# with BPF_TOKEN_CREATE for every job; a bpftool that knows tokens for the tests.
readonly MIN_LIBBPF=1.4

log() { printf 'install-deps: %s\n' "$*" >&2; }

is_installed() {
  dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^ii'
}

installed_version() {
  dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true
}

libbpf_is_new_enough() {
  local v
  v=$(installed_version libbpf-dev)
  [ -n "$v" ] || return 1
  v=${v#*:}  # drop the epoch
  dpkg --compare-versions "$v" ge "$MIN_LIBBPF"
}

linux_headers_have_tokens() {
  grep -q BPF_TOKEN_CREATE /usr/include/linux/bpf.h 2>/dev/null
}

# The backports suite lives on the same mirror as the machine's main Debian source.
debian_mirror() {
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '/^deb / && $0 ~ /bookworm/ && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
  fi
  printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

ensure_backports_source() {
  if grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    return 0
  fi
  local mirror
  mirror=$(debian_mirror)
  log "adding bookworm-backports from $mirror"
  cat >/etc/apt/sources.list.d/tokenbox-backports.sources <<SRC
Types: deb
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  APT_UPDATED=0
}

APT_UPDATED=0
apt_update_once() {
  if [ "$APT_UPDATED" = 0 ]; then
    log "apt-get update"
    apt-get update -qq
    APT_UPDATED=1
  fi
}

main() {
  local wanted=("${BUILD_PACKAGES[@]}") backports=(libbpf-dev linux-libc-dev) job
  for job in "${@:-build}"; do
    case "$job" in
      build) ;;
      test) wanted+=("${TEST_PACKAGES[@]}"); backports+=(bpftool) ;;
      fuzz) wanted+=("${FUZZ_PACKAGES[@]}") ;;
      bench) wanted+=("${BENCH_PACKAGES[@]}") ;;
      *) log "unknown job '$job' (build, test, fuzz, bench)"; exit 2 ;;
    esac
  done
  local missing=() pkg
  for pkg in "${wanted[@]}"; do
    is_installed "$pkg" || [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
  done
  local need_backports=0
  if ! libbpf_is_new_enough || ! linux_headers_have_tokens; then
    need_backports=1
  fi
  for pkg in "${backports[@]}"; do
    is_installed "$pkg" || need_backports=1
  done
  if [ ${#missing[@]} -eq 0 ] && [ "$need_backports" = 0 ]; then
    return 0
  fi
  if [ "$(id -u)" != 0 ]; then
    local named=("${missing[@]}")
    [ "$need_backports" = 1 ] && named+=("${backports[@]/%/ (bookworm-backports)}")
    log "missing packages: ${named[*]}; run as root to install them"
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if [ "$need_backports" = 1 ]; then
    ensure_backports_source
  fi
  apt_update_once
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if [ "$need_backports" = 1 ]; then
    log "installing ${backports[*]} from bookworm-backports"
    apt-get install -y -qq --no-install-recommends -t bookworm-backports "${backports[@]}" >/dev/null
  fi
  libbpf_is_new_enough || { log "libbpf-dev >= $MIN_LIBBPF is still missing"; exit 1; }
  linux_headers_have_tokens || { log "linux/bpf.h still lacks BPF_TOKEN_CREATE"; exit 1; }
}

main "$@"
