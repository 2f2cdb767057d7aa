// Every protection a sandbox has by default, and the option of the table
// (sandbox_flag_table.cc) that gives it up: what `tokenbox probe` lists, and
// sandbox_flags_test checks against the table.
#include "tools/sandbox_flags.h"

namespace tokenbox {
namespace {

const SandboxDefault kDefaults[] = {
    {"inner root is a host uid and gid leased for the run, that no other process has", "uid"},
    {"inner root is never host root", "allow-host-root"},
    {"CAP_BPF only, locked for exec; nothing that undoes the filesystem view", "allow-sys-admin"},
    {"no program type that traces or changes the whole machine loads", "allow-host-tracing"},
    {"a pid namespace and /proc of its own, under tokenbox's pid 1, dying with tokenbox",
     "no-unshare-pid"},
    {"a network namespace of its own, loopback only", "share-net"},
    {"an IPC namespace of its own", "share-ipc"},
    {"a hostname of its own", "share-uts"},
    {"a cgroup of its own, the root of all /sys/fs/cgroup shows, killed and removed after it",
     "share-cgroup"},
    {"a session of its own, without tokenbox's controlling terminal", "share-session"},
    {"a fresh session keyring", "share-keyring"},
    {"the working directory entered by path as the sandbox's user, or /", nullptr},
    {"a devpts instance of its own, at most 64 pseudo-terminals", nullptr},
    {"tokenbox's stdio flags and terminal modes put back after it", nullptr},
    {"the host's files read-only; /tmp, /var/tmp, /dev/shm and /run its own, gone with it",
     "bind"},
    {"at most 4096 processes and threads at once (a cgroup of its own)", "pids-max"},
};

}  // namespace

absl::Span<const SandboxDefault> SandboxDefaults() { return kDefaults; }

}  // namespace tokenbox
