// Launches one sandbox through the library (Launch(), or a fork server with --via-fork-server)
// and reports what the launch left behind, for the fault-injection test to run under
// `strace --inject`: the launcher's open fds before and after, whether any child is left
// (running or zombie), and the error.
//
//   fault_target [--via-fork-server] [--delegate-KIND=ITEMS...] --pid|--no-pid PROGRAM [ARGS...]
//
// The policy is map_create and array maps unless --delegate-cmds/maps/progs/attachs say
// otherwise (then exactly what they say).
//
//   fault_target --inject-child=SYSCALL:ERRNO:N -- COMMAND [ARGS...]
//   fault_target --inject-launcher=SYSCALL:ERRNO:N[:PATH_PREFIX] -- COMMAND [ARGS...]
//
// runs COMMAND (a launcher: `tokenbox run ...`, or this program in the first form) under
// ptrace and makes the Nth call of SYSCALL (recvmsg, sendmsg, write, mkdirat, fsconfig, fsmount,
// unshare or clone) fail with
// ERRNO, and nothing else: with --inject-child, the Nth call of the first process COMMAND forks
// (the sandbox's child); with --inject-launcher, of COMMAND's main thread, counting only calls
// whose fd (first argument) names a file under PATH_PREFIX when one is given. strace cannot aim
// there: it counts calls per process, but injects into every process it follows, and the
// launcher makes each of the child's calls before the child does; and in a sanitized build the
// launcher also write()s to pipes (UBSan's memory probes) a varying number of times. Exits as
// COMMAND did; prints one line to stderr only when no call was failed.
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sandbox/fork_server.h"
#include "sandbox/launcher.h"
#include "tests/process_state.h"
#include "tools/run_support.h"

namespace {

struct Injection {
  bool into_child = true;  // The first forked process; otherwise COMMAND's main thread.
  long syscall_nr = -1;
  int error = 0;
  int nth = 0;
  std::string path_prefix;  // Count only calls on an fd that names a file under this.
};

// "recvmsg:EIO:2" -> {SYS_recvmsg, EIO, 2}, "write:EPERM:1:/proc/" -> {SYS_write, EPERM, 1,
// "/proc/"}; false when it is not that form.
bool ParseInjection(const std::string& text, Injection* out) {
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    size_t colon = text.find(':', start);
    parts.push_back(text.substr(start, colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (parts.size() != 3 && parts.size() != 4) return false;
  static const std::map<std::string, long> kSyscalls = {
      {"recvmsg", SYS_recvmsg}, {"sendmsg", SYS_sendmsg}, {"write", SYS_write},
      {"mkdirat", SYS_mkdirat}, {"fsconfig", SYS_fsconfig},
      {"fsmount", SYS_fsmount}, {"unshare", SYS_unshare}, {"clone", SYS_clone}};
  static const std::map<std::string, int> kErrors = {
      {"EIO", EIO},     {"ENOBUFS", ENOBUFS}, {"ENOMEM", ENOMEM}, {"EPIPE", EPIPE},
      {"EPERM", EPERM}, {"EINVAL", EINVAL},   {"EACCES", EACCES}, {"EBADF", EBADF},
      {"ENOSPC", ENOSPC}};
  auto syscall_nr = kSyscalls.find(parts[0]);
  auto error = kErrors.find(parts[1]);
  if (syscall_nr == kSyscalls.end() || error == kErrors.end()) return false;
  out->syscall_nr = syscall_nr->second;
  out->error = error->second;
  out->nth = std::atoi(parts[2].c_str());
  if (parts.size() == 4) out->path_prefix = parts[3];
  return out->nth > 0;
}

// Whether `fd` of `pid` names a file under `prefix`.
bool FdUnder(pid_t pid, unsigned long long fd, const std::string& prefix) {
  char target[4096] = {};
  const std::string link = "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd);
  ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
  return n > 0 && std::string(target, static_cast<size_t>(n)).rfind(prefix, 0) == 0;
}

#if defined(__x86_64__)
// Fails the Nth call of one syscall in the first process the command forks, or in the
// command's main thread. Every other tracee runs without syscall stops.
int TraceAndInject(const Injection& injection, char** command) {
  std::fflush(nullptr);
  pid_t command_pid = fork();
  if (command_pid < 0) return 125;
  if (command_pid == 0) {
    ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    raise(SIGSTOP);
    execv(command[0], command);
    std::fprintf(stderr, "fault_target: execv(%s): %s\n", command[0], strerror(errno));
    _exit(127);
  }
  int status = 0;
  if (waitpid(command_pid, &status, 0) != command_pid || !WIFSTOPPED(status)) return 125;
  // TRACEEXEC: an exec is an event stop, not a SIGTRAP that would be delivered.
  const long options = PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
                       PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL;
  if (ptrace(PTRACE_SETOPTIONS, command_pid, nullptr, options) != 0) return 125;

  // The first process forked (the sandbox's child), or the command's main thread.
  pid_t target = injection.into_child ? -1 : command_pid;
  int calls = 0;                // The target's calls of the syscall so far.
  bool skipping = false;        // The target is inside the call being failed.
  bool injected = false;
  enum class NewTracee { kAwaitingStop, kStoppedUnknown };
  std::map<pid_t, NewTracee> new_tracees;  // Tracees between creation and first resume.
  std::set<pid_t> started = {command_pid};  // Tracees past their first stop.
  auto resume = [&](pid_t pid, int sig) {
    ptrace(pid == target ? PTRACE_SYSCALL : PTRACE_CONT, pid, nullptr, sig);
  };
  resume(command_pid, 0);
  int command_status = -1;
  for (;;) {
    pid_t pid = waitpid(-1, &status, __WALL);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: every tracee has gone.
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      if (pid == command_pid) command_status = status;
      started.erase(pid);
      continue;
    }
    if (!WIFSTOPPED(status)) continue;
    const int sig = WSTOPSIG(status);
    const int event = status >> 16;
    if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
        event == PTRACE_EVENT_CLONE) {
      unsigned long message = 0;
      ptrace(PTRACE_GETEVENTMSG, pid, nullptr, &message);
      const pid_t created = static_cast<pid_t>(message);
      if (event == PTRACE_EVENT_FORK && target < 0 && injection.into_child) target = created;
      // Its first stop may have come already; then it waits for this decision.
      auto known = new_tracees.find(created);
      if (known != new_tracees.end() && known->second == NewTracee::kStoppedUnknown) {
        new_tracees.erase(known);
        started.insert(created);
        resume(created, 0);
      } else {
        new_tracees[created] = NewTracee::kAwaitingStop;
      }
      resume(pid, 0);
      continue;
    }
    if (event != 0) {  // PTRACE_EVENT_EXEC and the like: nothing to do.
      resume(pid, 0);
      continue;
    }
    if (sig == (SIGTRAP | 0x80)) {  // A syscall stop; only the target has them.
      __ptrace_syscall_info info;
      std::memset(&info, 0, sizeof(info));
      if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof(info), &info) > 0 && pid == target) {
        user_regs_struct regs;
        if (info.op == PTRACE_SYSCALL_INFO_ENTRY &&
            static_cast<long>(info.entry.nr) == injection.syscall_nr && !injected &&
            (injection.path_prefix.empty() ||
             FdUnder(pid, info.entry.args[0], injection.path_prefix)) &&
            ++calls == injection.nth && ptrace(PTRACE_GETREGS, pid, nullptr, &regs) == 0) {
          regs.orig_rax = static_cast<unsigned long long>(-1);  // No such call: skipped.
          skipping = ptrace(PTRACE_SETREGS, pid, nullptr, &regs) == 0;
        } else if (info.op == PTRACE_SYSCALL_INFO_EXIT && skipping &&
                   ptrace(PTRACE_GETREGS, pid, nullptr, &regs) == 0) {
          regs.rax = static_cast<unsigned long long>(-injection.error);
          injected = ptrace(PTRACE_SETREGS, pid, nullptr, &regs) == 0;
          skipping = false;
        }
      }
      resume(pid, 0);
      continue;
    }
    if (sig == SIGSTOP && started.count(pid) == 0) {
      auto known = new_tracees.find(pid);
      if (known != new_tracees.end()) {  // A new tracee's first stop, decided already.
        new_tracees.erase(known);
        started.insert(pid);
        resume(pid, 0);
      } else {  // Its creator's event has not come yet: it waits for the decision there.
        new_tracees[pid] = NewTracee::kStoppedUnknown;
      }
      continue;
    }
    resume(pid, sig);  // A signal for the tracee: deliver it.
  }
  if (!injected) {
    std::fprintf(stderr, "fault_target: the %s made no call %d of syscall %ld%s%s\n",
                 injection.into_child ? "forked child" : "command's main thread", injection.nth,
                 injection.syscall_nr, injection.path_prefix.empty() ? "" : " on ",
                 injection.path_prefix.c_str());
  }
  if (command_status == -1) return 125;
  return WIFEXITED(command_status) ? WEXITSTATUS(command_status)
                                   : 128 + WTERMSIG(command_status);
}
#else
int TraceAndInject(const Injection&, char**) {
  std::fprintf(stderr, "fault_target: --inject-child and --inject-launcher need x86_64\n");
  return 125;
}
#endif

int Usage() {
  std::fprintf(stderr,
               "usage: fault_target [--via-fork-server] [--delegate-KIND=ITEMS...] --pid|--no-pid "
               "PROGRAM [ARGS...]\n"
               "       fault_target --inject-child=SYSCALL:ERRNO:N -- COMMAND [ARGS...]\n"
               "       fault_target --inject-launcher=SYSCALL:ERRNO:N[:PATH_PREFIX] -- COMMAND "
               "[ARGS...]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  for (const std::string who : {"child", "launcher"}) {
    const std::string option = "--inject-" + who + "=";
    if (argc > 3 && std::string(argv[1]).rfind(option, 0) == 0 && std::string(argv[2]) == "--") {
      Injection injection;
      injection.into_child = who == "child";
      if (!ParseInjection(std::string(argv[1]).substr(option.size()), &injection)) return Usage();
      return TraceAndInject(injection, argv + 3);
    }
  }
  bool via_fork_server = false;
  std::string delegate[4];  // cmds, maps, progs, attachs
  bool policy_given = false;
  const char* const kKinds[] = {"--delegate-cmds=", "--delegate-maps=", "--delegate-progs=",
                                "--delegate-attachs="};
  int next = 1;
  for (; next < argc; ++next) {
    const std::string arg = argv[next];
    if (arg == "--via-fork-server") {
      via_fork_server = true;
      continue;
    }
    bool matched = false;
    for (int kind = 0; kind < 4; ++kind) {
      const std::string prefix = kKinds[kind];
      if (arg.rfind(prefix, 0) == 0) {
        delegate[kind] = arg.substr(prefix.size());
        policy_given = matched = true;
      }
    }
    if (!matched) break;
  }
  if (argc - next < 2 || (std::string(argv[next]) != "--pid" && std::string(argv[next]) != "--no-pid")) {
    return Usage();
  }
  if (!policy_given) {
    delegate[0] = "map_create";
    delegate[1] = "array";
  }
  auto policy = tokenbox::ParseDelegationPolicy(delegate[0], delegate[1], delegate[2], delegate[3]);
  if (!policy.ok()) {
    std::fprintf(stderr, "fault_target: %s\n", std::string(policy.status().message()).c_str());
    return 2;
  }
  tokenbox::NewNamespaces namespaces;
  namespaces.pid = std::string(argv[next]) == "--pid";
  auto sandbox = tokenbox::SandboxBuilder().Policy(*policy).Namespaces(namespaces).Build();
  auto command = tokenbox::CommandBuilder()
                     .Program(std::vector<std::string>(argv + next + 1, argv + argc))
                     .Build();
  if (!sandbox.ok() || !command.ok()) return 2;
  const int fds_before = tokenbox::testing::CountOpenFds();
  std::string result;
  {
    auto run = tokenbox::StartRun(*sandbox, *command, {}, via_fork_server);
    if (run.ok()) {
      auto status = run->child.Wait();
      result = status.ok() ? status->ToString() : std::string(status.status().message());
    } else {
      result = std::string(run.status().message());
    }
  }
  const int fds_after = tokenbox::testing::CountOpenFds();
  errno = 0;
  const bool children_left = !(waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD);
  std::printf("fds_before=%d\nfds_after=%d\nchildren_left=%d\nresult=%s\n", fds_before, fds_after,
              children_left, result.c_str());
  return 0;
}
