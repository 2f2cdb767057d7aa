#ifndef TOKENBOX_TESTS_PROCESS_STATE_H_
#define TOKENBOX_TESTS_PROCESS_STATE_H_

#include <sys/types.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace tokenbox::testing {

// What a launch could leave behind, measured from the outside. No test framework needed, so
// helper programs run under strace can use it too.

// The contents of a /proc file, read so that a process exiting mid-read gives a short or empty
// answer rather than an error.
std::string ReadProcFile(const std::string& path);

// The open fds of this process, in order.
std::vector<int> OpenFds();

// The number of open fds of this process.
int CountOpenFds();

// From /proc/PID/stat: the state letter ('S', 'T', 'Z', ...) and the parent of `pid`; nullopt
// when it is gone.
struct ProcessStat {
  char state = 0;
  pid_t ppid = 0;
};
std::optional<ProcessStat> ReadProcessStat(pid_t pid);

// Whether a pipe whose write end this process has just closed reaches end-of-file within a
// second, which it does only when no other process (a sandbox's) holds that write end.
bool NoOtherWriter(int read_fd);

// The number of mounts in this process's mount namespace.
int CountMounts();

// The mount table (/proc/self/mountinfo), one line each.
std::set<std::string> MountTable();

// The mounts added since `before` that are still there after up to 5 s: tests of other
// checkouts may run on this host at the same time and mount things for a moment; a mount a
// launch left behind would stay.
std::vector<std::string> MountsLeftSince(const std::set<std::string>& before);

// Whether /proc/self/mountinfo has a mount at `path` (of type `fstype` when it is not empty).
bool HasMountAt(const std::string& path, const std::string& fstype = "");

// How a marker is looked for in a process's arguments.
enum class ArgumentMatch {
  kWhole,     // An argument equals it.
  kPrefix,    // An argument starts with it.
  kAnywhere,  // It appears anywhere in the command line, inside an argument or not.
};

// The processes on the host whose arguments hold `marker` (zombies have none).
std::vector<pid_t> ProcessesWithArgument(const std::string& marker,
                                         ArgumentMatch match = ArgumentMatch::kWhole);

// Whether any process on the host has `marker` anywhere in its command line.
bool ProcessWithArgument(const std::string& marker);

// Waits, through its pidfd, until process `pid` has ended (whether or not it was reaped); at most
// `bound`, against a hang where it does not. Whether it ended: true for a pid already gone.
bool AwaitExit(pid_t pid, absl::Duration bound = absl::Seconds(10));

}  // namespace tokenbox::testing

#endif  // TOKENBOX_TESTS_PROCESS_STATE_H_
