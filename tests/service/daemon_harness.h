#ifndef TOKENBOX_TESTS_SERVICE_DAEMON_HARNESS_H_
#define TOKENBOX_TESTS_SERVICE_DAEMON_HARNESS_H_

#include <sys/types.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "ns/unique_fd.h"
#include "tests/command_runner.h"

namespace tokenbox::testing {

// A real tokenboxd of the test's own (the //tools:tokenboxd the test has in its runfiles): its
// socket and policy file in a fresh directory of root's (0755), started when made and stopped
// when destroyed, its stderr kept as its log. With a `wrapper` (strace with a fault to inject),
// the daemon runs under it.
class TestDaemon {
 public:
  explicit TestDaemon(const std::string& policy, const std::vector<std::string>& options = {},
                      const std::vector<std::string>& wrapper = {});
  ~TestDaemon();
  TestDaemon(const TestDaemon&) = delete;
  TestDaemon& operator=(const TestDaemon&) = delete;

  // Whether it started and listens.
  bool running() const { return pid_ > 0 && listening_; }
  // tokenboxd's pid (under a wrapper, the wrapper's child).
  pid_t pid() const;
  // Whether it is alive: not exited, nor a zombie.
  bool alive() const;
  const std::string& socket() const { return socket_; }
  const std::string& policy_path() const { return policy_path_; }
  // Replaces the policy file's text (root's, 0644); the next request reads it.
  void SetPolicy(const std::string& text);
  // What it logged so far.
  std::string log() const;
  // While held, the thread that reads the log allocates nothing: a sanitized build's allocator
  // is not fork-safe, and a child forked while that thread allocates hangs in its first malloc.
  std::unique_lock<std::mutex> HoldLog() const { return std::unique_lock<std::mutex>(mutex_); }
  // Waits until the log holds `count` lines containing `text`; false after `bound`.
  bool AwaitLog(const std::string& text, int count = 1, absl::Duration bound = absl::Seconds(20));
  // Waits until it holds one of `texts`; which one, or -1 after `bound`.
  int AwaitLogOf(const std::vector<std::string>& texts, absl::Duration bound = absl::Seconds(20));
  // SIGKILLs it and reaps it, as a crash would end it.
  void Kill();
  // Starts it again on the same socket and policy, after Kill().
  void Restart();

  // The environment a caller of this daemon runs tokenbox with.
  std::vector<std::string> CallerEnvironment() const;

 private:
  void Start();

  std::vector<std::string> options_, wrapper_;
  std::string dir_, socket_, policy_path_;
  pid_t pid_ = -1;
  bool listening_ = false;
  UniqueFd log_read_;
  std::thread log_reader_;
  mutable std::mutex mutex_;
  std::condition_variable logged_;
  std::string log_;
};

// A real user of the machine for the test (useradd, no home directory), in `groups` (made
// for the test too when missing); removed, with whatever still runs as it, when destroyed.
class TestUser {
 public:
  explicit TestUser(const std::string& name, const std::vector<std::string>& groups = {});
  ~TestUser();
  TestUser(const TestUser&) = delete;
  TestUser& operator=(const TestUser&) = delete;

  bool created() const { return uid_ != static_cast<uid_t>(-1); }
  const std::string& name() const { return name_; }
  uid_t uid() const { return uid_; }

 private:
  std::string name_;
  std::vector<std::string> made_groups_;
  uid_t uid_ = static_cast<uid_t>(-1);
};

// Runs `argv` as `user`, with `daemon`'s caller environment.
CommandResult RunAs(const TestUser& user, const TestDaemon& daemon,
                    const std::vector<std::string>& argv, absl::Duration timeout = absl::Seconds(60));

// The host-id leases (/run/tokenbox/host-ids) that tokenboxd `daemon_pid` holds, by the kernel's
// list of file locks, and the cgroups it made (tokenbox-<pid>-* below its own cgroup, in every
// hierarchy): what a request must give back when its sandbox has ended. Other tests' leases and
// cgroups, running beside, are not its.
std::vector<std::string> LeasesHeldBy(pid_t daemon_pid);
std::vector<std::string> CgroupsMadeBy(pid_t daemon_pid);

}  // namespace tokenbox::testing

#endif  // TOKENBOX_TESTS_SERVICE_DAEMON_HARNESS_H_
