#include "tests/service/daemon_harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ns/pipe.h"
#include "sandbox/host_resources/cgroup_hierarchy.h"
#include "sandbox/host_resources/host_id_lease.h"
#include "tests/process_state.h"

namespace tokenbox::testing {
namespace {

constexpr char kDaemon[] = "tools/tokenboxd";

int CountOccurrences(const std::string& text, const std::string& needle) {
  int count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

std::vector<std::string> Entries(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> found;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* entry = readdir(d)) {
      const std::string name = entry->d_name;
      if (name != "." && name != ".." && absl::StartsWith(name, prefix)) {
        found.push_back(absl::StrCat(dir, "/", name));
      }
    }
    closedir(d);
  }
  return found;
}

}  // namespace

TestDaemon::TestDaemon(const std::string& policy, const std::vector<std::string>& options,
                       const std::vector<std::string>& wrapper)
    : options_(options), wrapper_(wrapper) {
  char dir[] = "/run/tokenbox-test-XXXXXX";
  if (mkdtemp(dir) == nullptr) return;
  dir_ = dir;
  chmod(dir_.c_str(), 0755);
  socket_ = dir_ + "/tokenboxd.sock";
  policy_path_ = dir_ + "/delegation.conf";
  SetPolicy(policy);
  Start();
}

void TestDaemon::SetPolicy(const std::string& text) {
  std::ofstream(policy_path_, std::ios::trunc) << text;
  (void)!chown(policy_path_.c_str(), 0, 0);
  chmod(policy_path_.c_str(), 0644);
}

void TestDaemon::Start() {
  absl::StatusOr<Pipe> log = MakePipe();
  if (!log.ok()) return;
  std::vector<std::string> argv = wrapper_;
  argv.insert(argv.end(), {kDaemon, "--socket=" + socket_, "--policy=" + policy_path_});
  argv.insert(argv.end(), options_.begin(), options_.end());
  pid_ = fork();
  if (pid_ == 0) {
    dup2(log->write_end.get(), STDERR_FILENO);
    std::vector<char*> args;
    for (std::string& arg : argv) args.push_back(arg.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  log->write_end.Reset();
  log_read_ = std::move(log->read_end);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    log_.clear();
  }
  log_reader_ = std::thread([this, fd = log_read_.get()] {
    char buffer[4096];
    for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) {
      std::lock_guard<std::mutex> lock(mutex_);
      log_.append(buffer, static_cast<size_t>(n));
      logged_.notify_all();
    }
  });
  listening_ = pid_ > 0 && AwaitLog("tokenboxd: listening on ");
}

pid_t TestDaemon::pid() const {
  if (wrapper_.empty() || pid_ <= 0) return pid_;
  // The wrapper's only child: /proc/PID/task/PID/children lists it.
  pid_t child = -1;
  std::ifstream(absl::StrCat("/proc/", pid_, "/task/", pid_, "/children")) >> child;
  return child;
}

bool TestDaemon::alive() const {
  const pid_t daemon = pid();
  if (daemon <= 0) return false;
  std::string state;
  for (absl::string_view line :
       absl::StrSplit(ReadProcFile(absl::StrCat("/proc/", daemon, "/status")), '\n')) {
    if (absl::StartsWith(line, "State:")) state = std::string(line);
  }
  return !state.empty() && state.find("zombie") == std::string::npos;
}

std::string TestDaemon::log() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return log_;
}

bool TestDaemon::AwaitLog(const std::string& text, int count, absl::Duration bound) {
  std::unique_lock<std::mutex> lock(mutex_);
  return logged_.wait_for(lock, absl::ToChronoSeconds(bound),
                          [&] { return CountOccurrences(log_, text) >= count; });
}

int TestDaemon::AwaitLogOf(const std::vector<std::string>& texts, absl::Duration bound) {
  std::unique_lock<std::mutex> lock(mutex_);
  int found = -1;
  logged_.wait_for(lock, absl::ToChronoSeconds(bound), [&] {
    for (size_t i = 0; i < texts.size(); ++i) {
      if (log_.find(texts[i]) != std::string::npos) found = static_cast<int>(i);
    }
    return found >= 0;
  });
  return found;
}

void TestDaemon::Kill() {
  if (pid_ <= 0) return;
  if (pid() != pid_) kill(pid(), SIGKILL);
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  listening_ = false;
  if (log_reader_.joinable()) log_reader_.join();  // Ends at the pipe's end-of-file.
  log_read_.Reset();
}

void TestDaemon::Restart() {
  Kill();
  Start();
}

TestDaemon::~TestDaemon() {
  if (pid_ > 0) {
    // The daemon itself: a wrapper (strace) that is signalled detaches and leaves it running.
    kill(pid(), SIGTERM);
    if (!AwaitExit(pid_, absl::Seconds(5))) kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (log_reader_.joinable()) log_reader_.join();
  unlink(socket_.c_str());
  unlink(policy_path_.c_str());
  rmdir(dir_.c_str());
}

std::vector<std::string> TestDaemon::CallerEnvironment() const {
  return {"TOKENBOX_SERVICE_SOCKET=" + socket_, "PATH=/usr/bin:/bin:/usr/sbin:/sbin"};
}

TestUser::TestUser(const std::string& name, const std::vector<std::string>& groups) : name_(name) {
  for (const std::string& group : groups) {
    if (RunCommand({"/usr/bin/getent", "group", group}).exit_code != 0) {
      if (RunCommand({"/usr/sbin/groupadd", group}).exit_code != 0) return;
      made_groups_.push_back(group);
    }
  }
  std::vector<std::string> add = {"/usr/sbin/useradd", "-M", "-s", "/bin/sh"};
  if (!groups.empty()) {
    std::string joined;
    for (const std::string& group : groups) joined += (joined.empty() ? "" : ",") + group;
    add.push_back("-G");
    add.push_back(joined);
  }
  add.push_back(name);
  RunCommand({"/usr/sbin/userdel", name});  // A test run that died may have left it.
  if (RunCommand(add).exit_code != 0) return;
  CommandResult id = RunCommand({"/usr/bin/id", "-u", name});
  if (id.exit_code == 0) uid_ = static_cast<uid_t>(std::strtoul(id.out.c_str(), nullptr, 10));
}

TestUser::~TestUser() {
  if (created()) {
    RunCommand({"/usr/bin/pkill", "-KILL", "-U", absl::StrCat(uid_)});
    RunCommand({"/usr/sbin/userdel", name_});
  }
  for (const std::string& group : made_groups_) RunCommand({"/usr/sbin/groupdel", group});
}

CommandResult RunAs(const TestUser& user, const TestDaemon& daemon,
                    const std::vector<std::string>& argv, absl::Duration timeout) {
  return RunCommand(argv, {.timeout = timeout, .uid = user.uid(), .env = daemon.CallerEnvironment()});
}

std::vector<std::string> LeasesHeldBy(pid_t daemon_pid) {
  // /proc/locks: "1: FLOCK  ADVISORY  WRITE 1234 00:1a:5678 0 EOF", the holder's pid and the
  // file's device:inode.
  std::vector<std::string> held_inodes;
  for (absl::string_view line : absl::StrSplit(ReadProcFile("/proc/locks"), '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.size() >= 6 && fields[1] == "FLOCK" && fields[4] == absl::StrCat(daemon_pid)) {
      std::vector<absl::string_view> id = absl::StrSplit(fields[5], ':');
      if (id.size() == 3) held_inodes.emplace_back(id[2]);
    }
  }
  std::vector<std::string> held;
  for (const std::string& file : Entries(HostIdLease::kHostIdLockDirectory, "")) {
    struct stat st;
    if (stat(file.c_str(), &st) == 0 &&
        std::find(held_inodes.begin(), held_inodes.end(), absl::StrCat(st.st_ino)) !=
            held_inodes.end()) {
      held.push_back(file);
    }
  }
  return held;
}

std::vector<std::string> CgroupsMadeBy(pid_t daemon_pid) {
  const std::string prefix = absl::StrCat("tokenbox-", daemon_pid, "-");
  const CgroupLayout layout = CgroupLayout::Read();
  std::vector<std::string> found;
  if (absl::StatusOr<std::optional<CgroupHierarchy>> cgroup2 = layout.Cgroup2();
      cgroup2.ok() && cgroup2->has_value()) {
    for (std::string& entry : Entries((*cgroup2)->LauncherDirectory(), prefix)) {
      found.push_back(std::move(entry));
    }
  }
  for (const char* controller : {"pids", "memory", "cpu"}) {
    absl::StatusOr<CgroupHierarchy> hierarchy = layout.ControllerHierarchy(controller);
    if (!hierarchy.ok() || hierarchy->version != 1) continue;
    for (std::string& entry : Entries(hierarchy->LauncherDirectory(), prefix)) {
      found.push_back(std::move(entry));
    }
  }
  return found;
}

}  // namespace tokenbox::testing
