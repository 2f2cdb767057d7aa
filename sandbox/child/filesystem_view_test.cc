// The sandbox's filesystem view, seen from inside and from the host: the read-only host with
// private scratch mounts by default, each bubblewrap operation (what it shows, and what it does
// not), their order, the empty root, and that no launch changes the host's scratch places or
// mount table.
#include "sandbox/child/filesystem_view.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"
#include "sandbox/fork_server.h"
#include "sandbox/launcher.h"
#include "tests/captured_run.h"
#include "tests/process_state.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::Built;
using ::tokenbox::testing::RunCaptured;

SandboxBuilder Base() { return testing::DemoSandbox(); }
CommandBuilder Shell(const std::string& script) {
  return testing::ProgramCommand({"/bin/sh", "-c", script});
}
std::string Output(SandboxBuilder sandbox, const std::string& script) {
  return RunCaptured(std::move(sandbox), Shell(script)).out;
}

// What an empty root needs for /bin/sh: Debian's merged /usr.
SandboxBuilder EmptyRootWithShell() {
  SandboxBuilder sandbox = Base();
  sandbox.EmptyRoot()
      .ReadOnlyBind("/usr", "/usr")
      .Symlink("usr/bin", "/bin")
      .Symlink("usr/lib", "/lib")
      .Symlink("usr/lib64", "/lib64");
  return sandbox;
}

// The set-up step a launch failed at, and its message; the launch must fail.
absl::Status LaunchFailure(SandboxBuilder sandbox) {
  absl::StatusOr<Sandbox> built = sandbox.Build();
  if (!built.ok()) return built.status();
  absl::StatusOr<Child> child = Launch(*built, Built(Shell("exit 0")));
  if (child.ok()) {
    (void)child->Wait();
    return absl::OkStatus();
  }
  return child.status();
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) names.emplace_back(e->d_name);
    closedir(d);
  }
  return names;
}

// A host directory the sandbox's leased user may write, as --bind needs.
struct SharedDirectory {
  SharedDirectory() {
    path = testing::InspectorStage().dir() + "/shared-" + std::to_string(counter++);
    mkdir(path.c_str(), 0777);
    chmod(path.c_str(), 01777);
  }
  ~SharedDirectory() {
    for (const std::string& name : Entries(path)) {
      if (name != "." && name != "..") unlink((path + "/" + name).c_str());
    }
    rmdir(path.c_str());
  }
  std::string path;
  static inline int counter = 0;
};

TEST_CASE("By default the host is read-only, and /tmp, /var/tmp, /dev/shm and /run are the sandbox's own") {
  TB_REQUIRE_PRIVILEGE();
  const std::string marker = absl::StrCat("tokenbox-view-", getpid());
  // Host files in the scratch places are out of sight.
  const std::string host_file = "/tmp/" + marker + "-host";
  REQUIRE(close(open(host_file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) == 0);
  std::string script;
  for (const char* place : {"/tmp", "/var/tmp", "/dev/shm", "/run"}) {
    absl::StrAppend(&script, "echo x > ", place, "/", marker, " && echo ", place, " writable; ");
  }
  absl::StrAppend(&script, "test -e ", host_file, " || echo host /tmp hidden; ",
                  "touch /etc/", marker, " 2>/dev/null || echo /etc read-only; ",
                  "touch ", testing::InspectorStage().dir(), "/", marker,
                  " 2>/dev/null || echo stage read-only; ",
                  "cat /etc/hostname >/dev/null && echo /etc readable");
  CHECK(Output(Base(), script) ==
        "/tmp writable\n/var/tmp writable\n/dev/shm writable\n/run writable\n"
        "host /tmp hidden\n/etc read-only\nstage read-only\n/etc readable\n");
  // Nothing the sandbox wrote is on the host.
  for (const char* place : {"/tmp", "/var/tmp", "/dev/shm", "/run", "/etc"}) {
    INFO(place);
    CHECK(access(absl::StrCat(place, "/", marker).c_str(), F_OK) != 0);
  }
  CHECK(access(absl::StrCat(testing::InspectorStage().dir(), "/", marker).c_str(), F_OK) != 0);
  unlink(host_file.c_str());
}

TEST_CASE("--bind is writable and --ro-bind is not; what either leaves unbound stays read-only") {
  TB_REQUIRE_PRIVILEGE();
  SharedDirectory rw, ro;
  SandboxBuilder sandbox = Base();
  sandbox.Bind(rw.path, "/run/out").ReadOnlyBind(ro.path, "/tmp/in");
  REQUIRE(close(open((ro.path + "/given").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) == 0);
  CHECK(Output(sandbox, "echo made > /run/out/made && echo bound writable; "
                        "test -e /tmp/in/given && echo ro visible; "
                        "touch /tmp/in/new 2>/dev/null || echo ro refused; "
                        "touch " + rw.path + "/direct 2>/dev/null || echo source path read-only") ==
        "bound writable\nro visible\nro refused\nsource path read-only\n");
  CHECK(access((rw.path + "/made").c_str(), F_OK) == 0);
  CHECK(access((ro.path + "/new").c_str(), F_OK) != 0);
  CHECK(access((rw.path + "/direct").c_str(), F_OK) != 0);
}

TEST_CASE("A directory bound over itself is writable where it is") {
  TB_REQUIRE_PRIVILEGE();
  SharedDirectory dir;
  SandboxBuilder sandbox = Base();
  sandbox.Bind(dir.path, dir.path);
  CHECK(Output(sandbox, "touch " + dir.path + "/ok && echo ok") == "ok\n");
  CHECK(access((dir.path + "/ok").c_str(), F_OK) == 0);
}

TEST_CASE("--tmpfs, --dir and --symlink make their places in the sandbox's own tmpfs mounts") {
  TB_REQUIRE_PRIVILEGE();
  SandboxBuilder sandbox = Base();
  sandbox.Tmpfs("/opt").Dir("/opt/a/b").Symlink("a/b", "/opt/link");
  CHECK(Output(sandbox, "ls /opt; readlink /opt/link; touch /opt/a/b/f && echo writable") ==
        "a\nlink\na/b\nwritable\n");
  // The host's /opt is as it was.
  for (const std::string& name : Entries("/opt")) CHECK(name != "link");
}

TEST_CASE("A mount point, directory or symlink is never made on the host") {
  TB_REQUIRE_PRIVILEGE();
  const std::string marker = absl::StrCat("/tokenbox-view-", getpid());
  SandboxBuilder dir = Base();
  dir.Dir("/opt" + marker);
  SandboxBuilder link = Base();
  link.Symlink("/etc", "/opt" + marker);
  SandboxBuilder bind = Base();
  bind.ReadOnlyBind("/usr", "/opt" + marker + "/usr");
  for (SandboxBuilder* sandbox : {&dir, &link, &bind}) {
    absl::Status failed = LaunchFailure(*sandbox);
    REQUIRE_FALSE(failed.ok());
    INFO(failed.message());
    CHECK(SetupStepOf(failed) == SetupStep::kArrangeFilesystemView);
    CHECK((testing::Contains(std::string(failed.message()), "never on the host") ||
           testing::Contains(std::string(failed.message()), "never writes to the host")));
    CHECK(access(("/opt" + marker).c_str(), F_OK) != 0);
  }
}

TEST_CASE("Operations apply in the order given") {
  TB_REQUIRE_PRIVILEGE();
  SharedDirectory dir;
  REQUIRE(close(open((dir.path + "/file").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) == 0);
  SandboxBuilder bind_then_tmpfs = Base();
  bind_then_tmpfs.Tmpfs("/opt").Bind(dir.path, "/opt/b");
  CHECK(Output(bind_then_tmpfs, "ls /opt/b") == "file\n");
  // The other way round the tmpfs hides the bind.
  SandboxBuilder tmpfs_over_bind = Base();
  tmpfs_over_bind.Bind(dir.path, "/tmp/b").Tmpfs("/tmp");
  CHECK(Output(tmpfs_over_bind, "ls /tmp; echo end") == "end\n");
  // A read-only remount holds for what was there, not for what comes after it.
  SandboxBuilder remount = Base();
  remount.Tmpfs("/opt").RemountReadOnly("/opt").Tmpfs("/srv");
  CHECK(Output(remount, "touch /opt/x 2>/dev/null || echo opt read-only; touch /srv/x && echo srv writable") ==
        "opt read-only\nsrv writable\n");
}

TEST_CASE("--dev is a minimal /dev with the sandbox's own terminals, and no host device else") {
  TB_REQUIRE_PRIVILEGE();
  SandboxBuilder sandbox = Base();
  sandbox.Dev("/dev");
  const std::string out = Output(
      sandbox, "ls /dev; echo x > /dev/null && echo null works; head -c 4 /dev/zero | wc -c; "
               "stat -c %d /dev/pts/ptmx; stat -c %d /dev/pts/ptmx");
  CHECK(testing::Contains(out, "full\nnull\nptmx\npts\nrandom\nshm\n"));
  CHECK(testing::Contains(out, "null works\n4\n"));
  for (const char* host_only : {"sda", "vda", "kmsg", "mem", "loop0", "console"}) {
    INFO(host_only);
    CHECK_FALSE(testing::Contains(out, absl::StrCat("\n", host_only, "\n")));
  }
  struct stat host_pts;
  REQUIRE(stat("/dev/pts/ptmx", &host_pts) == 0);
  CHECK_FALSE(testing::Contains(out, absl::StrCat(host_pts.st_dev, "\n")));  // Its own devpts.
}

TEST_CASE("--proc mounts the sandbox's /proc, which shows none of the host's processes") {
  TB_REQUIRE_PRIVILEGE();
  SandboxBuilder sandbox = Base();
  sandbox.Tmpfs("/srv").Proc("/srv/proc");
  CHECK(Output(sandbox, "set -- /srv/proc/[0-9]*; echo $#; test -e /srv/proc/1/status && echo ok") ==
        "2\nok\n");
}

TEST_CASE("An empty root holds only what the operations put there, and no way back to the host") {
  TB_REQUIRE_PRIVILEGE();
  SandboxBuilder sandbox = EmptyRootWithShell();
  sandbox.Proc("/proc").Tmpfs("/tmp").RemountReadOnly("/");
  const std::string out = Output(
      sandbox, "cd /; echo /*; test -e /etc/passwd || echo no etc; cd ..; echo /*; "
               "touch /x 2>/dev/null || echo root read-only; touch /tmp/x && echo tmp writable; "
               "grep -c . /proc/self/mountinfo");
  // The bpffs mount point was made for it; / holds nothing else of the host's.
  CHECK(testing::Contains(out, "/bin /lib /lib64 /proc /sys /tmp /usr\nno etc\n"
                               "/bin /lib /lib64 /proc /sys /tmp /usr\n"
                               "root read-only\ntmp writable\n"));
  // Root, /usr and what is mounted below it, the bpffs, /proc, /tmp: not the host's table.
  const int mounts = std::stoi(out.substr(out.rfind("writable\n") + 9));
  CHECK(mounts < testing::CountMounts());
}

TEST_CASE("A bind source is resolved by the launcher, through no symlink a user could have placed") {
  TB_REQUIRE_PRIVILEGE();
  // A symlink in a directory that others may write (here the sandbox's own, as a user's would
  // be) could point anywhere root may read: refused.
  SharedDirectory shared;
  const std::string planted = shared.path + "/link";
  REQUIRE(symlink("/etc", planted.c_str()) == 0);
  SandboxBuilder through_user_link = Base();
  through_user_link.ReadOnlyBind(planted, "/tmp/etc");
  absl::Status refused = LaunchFailure(through_user_link);
  REQUIRE_FALSE(refused.ok());
  CHECK(SetupStepOf(refused) == SetupStep::kOpenBindSources);
  CHECK(testing::Contains(std::string(refused.message()), "is a symlink in a directory that"));
  // A symlink of root's, in a directory only root may write (Debian's /lib -> usr/lib), is
  // followed.
  SandboxBuilder through_root_link = Base();
  through_root_link.ReadOnlyBind("/lib/os-release", "/tmp/os-release");
  CHECK(Output(through_root_link, "test -s /tmp/os-release && echo bound") == "bound\n");
  // A source that is not there is one error at its step, and nothing is mounted.
  const std::set<std::string> before = testing::MountTable();
  SandboxBuilder missing = Base();
  missing.Bind("/no/such/source", "/tmp/x");
  absl::Status failed = LaunchFailure(missing);
  CHECK(SetupStepOf(failed) == SetupStep::kOpenBindSources);
  CHECK(ErrnoOf(failed) == ENOENT);
  CHECK(testing::Contains(std::string(failed.message()), "must exist on the host"));
  CHECK(testing::MountsLeftSince(before).empty());
}

// Whatever the launch path and mode, the host's scratch places and mount table are untouched.
TEST_CASE("No launch changes the host's /tmp, /var/tmp, /dev/shm, /run or mount table") {
  TB_REQUIRE_PRIVILEGE();
  const char* kPlaces[] = {"/tmp", "/var/tmp", "/dev/shm", "/run"};
  auto listing = [&] {
    std::set<std::string> all;
    for (const char* place : kPlaces) {
      for (const std::string& name : Entries(place)) all.insert(absl::StrCat(place, "/", name));
    }
    return all;
  };
  const std::string marker = absl::StrCat("tokenbox-untouched-", getpid());
  std::string script = "umask 0; ";
  for (const char* place : kPlaces) {
    absl::StrAppend(&script, "mkdir -p ", place, "/", marker, "/d; echo x > ", place, "/", marker,
                    "/f; ");
  }
  absl::StrAppend(&script, "echo done");
  const std::set<std::string> mounts = testing::MountTable();
  std::vector<SandboxBuilder> sandboxes;
  for (testing::PidMode mode : testing::kEveryPidMode) sandboxes.push_back(testing::DemoSandbox(mode));
  sandboxes.push_back(EmptyRootWithShell());
  sandboxes.back().Tmpfs("/tmp").Tmpfs("/run").Dev("/dev");
  for (const SandboxBuilder& sandbox : sandboxes) {
    CHECK(Output(sandbox, script) == "done\n");
  }
  auto server = ForkServer::Start(Built(Base()));
  TB_REQUIRE_OK(server);
  CHECK(testing::RunCaptured(Shell(script), [&](const Command& run) {
          return (*server)->Launch(run);
        }).out == "done\n");
  server->reset();
  for (const std::string& entry : listing()) {
    INFO(entry);
    CHECK(entry.find(marker) == std::string::npos);
  }
  CHECK(testing::MountsLeftSince(mounts).empty());
}

}  // namespace
}  // namespace tokenbox
