// tokenboxd for real: a daemon of the test's own on a socket of its own, real users of the
// machine made for the test (one granted, one in a granted group, one granted nothing), and
// tokenbox run as each of them: what the administrator grants works without root, with the
// defaults a root launch has, and nothing else does.
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "sandbox/host_resources/host_id_lease.h"
#include "tests/command_runner.h"
#include "tests/process_state.h"
#include "tests/service/daemon_harness.h"
#include "tests/stand_in_fuzzer.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

using ::tokenbox::testing::CommandResult;
using ::tokenbox::testing::Concat;
using ::tokenbox::testing::Contains;
using ::tokenbox::testing::RunAs;
using ::tokenbox::testing::StagedFiles;
using ::tokenbox::testing::TestDaemon;
using ::tokenbox::testing::TestUser;


constexpr char kGranted[] = "tbx-granted";
constexpr char kMember[] = "tbx-member";
constexpr char kStranger[] = "tbx-stranger";
constexpr char kGroup[] = "tbx-bpfdev";

// What the bundled example needs, for kGranted; array maps for kGroup's members.
const std::string kPolicyText = absl::StrCat(
    "# tokenboxd_test\n", kGranted,
    " cmds=map_create:prog_load:btf_load maps=array progs=socket_filter attachs=any\n@", kGroup,
    " cmds=map_create maps=array\n");

const std::vector<std::string> kExamplePolicy = {
    "--delegate-cmds=map_create:prog_load:btf_load", "--delegate-maps=array",
    "--delegate-progs=socket_filter", "--delegate-attachs=any"};
const std::vector<std::string> kArrayMaps = {"--delegate-cmds=map_create", "--delegate-maps=array"};

// The users, the daemon and the binaries the users run, made once for the whole file.
struct World {
  TestUser granted{kGranted};
  TestUser member{kMember, {kGroup}};
  TestUser stranger{kStranger};
  TestDaemon daemon{kPolicyText};
  StagedFiles staged{{"tools/tokenbox", "tools/tokenboxd", "examples/packet_counter/packet_counter",
                      "examples/packet_counter/packet_counter.bpf.o"}};

  bool ready() const {
    return granted.created() && member.created() && stranger.created() && daemon.running();
  }
  std::vector<std::string> Run(const std::vector<std::string>& options,
                               const std::vector<std::string>& program) const {
    return Concat(Concat({staged.path("tokenbox"), "run"}, options), Concat({"--"}, program));
  }
};

// Made at the first test case that needs it, and destroyed at exit: the daemon stopped, the
// users removed.
World& TheWorld() {
  static World world;
  return world;
}

#define TB_REQUIRE_WORLD()                                                            \
  TB_REQUIRE_PRIVILEGE();                                                             \
  World& world = TheWorld();                                                          \
  REQUIRE_MESSAGE(world.ready(), "the test users or tokenboxd could not be made: ",   \
                  world.daemon.log())

TEST_CASE("A user granted one line loads BPF through the token, without root") {
  TB_REQUIRE_WORLD();
  CommandResult r = RunAs(world.granted, world.daemon,
                          world.Run(Concat(kExamplePolicy, {"--ro-bind", world.staged.dir(),
                                                            world.staged.dir()}),
                                    {world.staged.path("packet_counter")}));
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.out, "capabilities: effective=cap_bpf permitted=cap_bpf bounding=cap_bpf\n"));
  CHECK(Contains(r.out, "sent 10 packets on loopback, the program counted 10\n"));
  CHECK(Contains(r.out, "refused as expected: creating a hash map (not delegated): EPERM\n"));
  CHECK(world.daemon.AwaitLog(absl::StrCat("uid ", world.granted.uid(), " (", kGranted, ")")));
}

TEST_CASE("The sandbox is a leased host uid of its own, in every namespace, with only CAP_BPF") {
  TB_REQUIRE_WORLD();
  CommandResult r = RunAs(
      world.granted, world.daemon,
      world.Run(kArrayMaps, {"/bin/sh", "-c",
                             "cat /proc/self/uid_map /proc/self/gid_map; id -G; "
                             "grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status; "
                             "hostname; ls /proc | grep -c '^[0-9]'"}));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  REQUIRE(lines.size() == 8);
  std::vector<std::string> uid_map = absl::StrSplit(lines[0], ' ', absl::SkipEmpty());
  REQUIRE(uid_map.size() == 3);
  const uint32_t host_uid = std::stoul(uid_map[1]);
  CHECK(uid_map[0] == "0");
  CHECK(host_uid >= HostIdLease::kFirstId);
  CHECK(host_uid < HostIdLease::kFirstId + HostIdLease::kIdCount);
  CHECK(host_uid != world.granted.uid());
  CHECK(lines[2] == "0");  // No supplementary group of the caller's.
  CHECK(lines[3] == "CapEff:\t0000008000000000");
  CHECK(lines[4] == "CapBnd:\t0000008000000000");
  CHECK(lines[5] == "NoNewPrivs:\t1");
  CHECK(lines[6] == "tokenbox");
  CHECK(std::stoi(lines[7]) < 10);  // Its own pid namespace: its own few processes.
}

TEST_CASE("A request beyond the grant is refused whole, and nothing is made for it") {
  TB_REQUIRE_WORLD();
  CommandResult r = RunAs(world.granted, world.daemon,
                          world.Run({"--delegate-cmds=map_create", "--delegate-maps=array:hash"},
                                    {"/bin/true"}));
  CHECK(r.exit_code == 125);
  CHECK(r.err == absl::StrCat("tokenbox run: sandbox set-up failed at 'tokenboxd's grant': maps "
                              "'hash' is not granted to ", kGranted, " by ",
                              world.daemon.policy_path(), " (line 2)\n"));
  CHECK(testing::CgroupsMadeBy(world.daemon.pid()).empty());
  CHECK(testing::LeasesHeldBy(world.daemon.pid()).empty());
  CHECK(world.daemon.AwaitLog("maps 'hash' is not granted"));
}

TEST_CASE("A group's grant reaches its members, and no one else") {
  TB_REQUIRE_WORLD();
  CommandResult member = RunAs(world.member, world.daemon, world.Run(kArrayMaps, {"/bin/true"}));
  INFO(member.err);
  CHECK(member.exit_code == 0);
  CommandResult stranger =
      RunAs(world.stranger, world.daemon, world.Run(kArrayMaps, {"/bin/true"}));
  CHECK(stranger.exit_code == 125);
  CHECK(stranger.err == absl::StrCat("tokenbox run: sandbox set-up failed at 'tokenboxd's "
                                     "grant': cmds 'map_create' is not granted to ", kStranger,
                                     " (no line of ", world.daemon.policy_path(), " names ",
                                     kStranger, ")\n"));
  // The group's line grants array maps only: its members get no more.
  CommandResult beyond = RunAs(world.member, world.daemon,
                               world.Run({"--delegate-cmds=map_create:prog_load",
                                          "--delegate-maps=array"},
                                         {"/bin/true"}));
  CHECK(beyond.exit_code == 125);
  CHECK(Contains(beyond.err, "cmds 'prog_load' is not granted to tbx-member"));
}

TEST_CASE("The sandbox cannot read the caller's own 0600 file; --uid=self, which says so, can") {
  TB_REQUIRE_WORLD();
  const std::string secret = world.staged.Write("secret", "the caller's own\n", 0600);
  REQUIRE(chown(secret.c_str(), world.granted.uid(), static_cast<gid_t>(-1)) == 0);
  const std::vector<std::string> read = {"/bin/cat", secret};
  CommandResult leased = RunAs(world.granted, world.daemon,
                               world.Run(Concat(kArrayMaps, {"--ro-bind", world.staged.dir(),
                                                             world.staged.dir()}),
                                         read));
  CHECK(leased.exit_code == 1);
  CHECK(Contains(leased.err, "Permission denied"));
  CommandResult self = RunAs(world.granted, world.daemon,
                             world.Run(Concat(kArrayMaps, {"--uid=self", "--gid=self", "--ro-bind",
                                                           world.staged.dir(), world.staged.dir()}),
                                       read));
  INFO(self.err);
  CHECK(self.exit_code == 0);
  CHECK(self.out == "the caller's own\n");
  // Another user's ids are not the caller's to map.
  CommandResult other = RunAs(world.granted, world.daemon,
                              world.Run(Concat(kArrayMaps, {"--uid=0", "--allow-host-root"}),
                                        {"/bin/true"}));
  CHECK(other.exit_code == 125);
  CHECK(Contains(other.err, "no other ids are mapped for a caller who is not root"));
}

// The caller's own directory, 0700, bound writable: the sandbox writes in it as if it were its
// own (an idmapped mount), and what it writes is the caller's afterwards, to clean up.
TEST_CASE("What the sandbox writes into a writable bind is the caller's afterwards") {
  TB_REQUIRE_WORLD();
  const std::string dir = world.staged.dir() + "/out";
  REQUIRE(mkdir(dir.c_str(), 0700) == 0);
  REQUIRE(chown(dir.c_str(), world.granted.uid(), world.granted.uid()) == 0);
  CommandResult r = RunAs(world.granted, world.daemon,
                          world.Run(Concat(kArrayMaps, {"--bind", dir, dir}),
                                    {"/bin/sh", "-c", "echo written > \"$0/file\"; id -u; stat -c %u \"$0\"",
                                     dir}));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "0");  // Inner root, which the sandbox's leased uid is...
  CHECK(lines[1] == "0");  // ...and which the caller's directory shows as its owner inside.
  struct stat st;
  REQUIRE(stat((dir + "/file").c_str(), &st) == 0);
  CHECK(st.st_uid == world.granted.uid());
  CHECK(testing::ReadProcFile(dir + "/file") == "written\n");
  // The caller removes it, as a test runner removes its outputs.
  CHECK(RunAs(world.granted, world.daemon, {"/bin/rm", dir + "/file"}).exit_code == 0);
  rmdir(dir.c_str());
}

// ramfs cannot be idmapped: what the sandbox wrote there would be the leased uid's, which the
// caller could not remove, so the writable bind is refused; --uid=self needs no idmapping.
TEST_CASE("A writable bind on a filesystem that cannot be idmapped is refused with one line") {
  TB_REQUIRE_WORLD();
  const std::string dir = world.staged.dir() + "/ramfs";
  REQUIRE(mkdir(dir.c_str(), 0755) == 0);
  REQUIRE(mount("ramfs", dir.c_str(), "ramfs", MS_NOSUID | MS_NODEV, "mode=0700") == 0);
  absl::Cleanup unmounted = [&] {
    umount2(dir.c_str(), MNT_DETACH);
    rmdir(dir.c_str());
  };
  REQUIRE(chown(dir.c_str(), world.granted.uid(), world.granted.uid()) == 0);
  CommandResult writable = RunAs(world.granted, world.daemon,
                                 world.Run(Concat(kArrayMaps, {"--bind", dir, dir}), {"/bin/true"}));
  CHECK(writable.exit_code == 125);
  CHECK(Contains(writable.err, "mount_setattr(MOUNT_ATTR_IDMAP)"));
  CHECK(Contains(writable.err, "cannot be idmapped"));
  CHECK(Contains(writable.err, "--uid=self --gid=self"));
  CHECK(std::count(writable.err.begin(), writable.err.end(), '\n') == 1);
  CHECK(testing::LeasesHeldBy(world.daemon.pid()).empty());
  CommandResult self = RunAs(world.granted, world.daemon,
                             world.Run(Concat(kArrayMaps, {"--uid=self", "--gid=self", "--bind", dir,
                                                           dir}),
                                       {"/bin/sh", "-c", "echo x > \"$0/f\"", dir}));
  INFO(self.err);
  CHECK(self.exit_code == 0);
  struct stat st;
  CHECK(stat((dir + "/f").c_str(), &st) == 0);
  CHECK(st.st_uid == world.granted.uid());
}

// A directory of root's, bound by the caller (who may open any path it can reach), is not the
// sandbox's to write in, nor is a private one of root's to read: what the caller does not own
// shows as nobody's.
TEST_CASE("A bind gives the sandbox what the caller may do there, and no more") {
  TB_REQUIRE_WORLD();
  const std::string roots = world.staged.dir() + "/roots";
  REQUIRE(mkdir(roots.c_str(), 0755) == 0);
  const std::string private_root = world.staged.dir() + "/private-root";
  REQUIRE(mkdir(private_root.c_str(), 0700) == 0);
  absl::Cleanup removed = [&] {
    unlink((roots + "/planted").c_str());
    rmdir(roots.c_str());
    rmdir(private_root.c_str());
  };
  CommandResult planted = RunAs(world.granted, world.daemon,
                                world.Run(Concat(kArrayMaps, {"--bind", roots, roots}),
                                          {"/bin/sh", "-c", "echo x > \"$0/planted\"", roots}));
  CHECK(planted.exit_code != 0);
  CHECK(Contains(planted.err, "Permission denied"));
  CHECK(access((roots + "/planted").c_str(), F_OK) != 0);
  CommandResult listed = RunAs(world.granted, world.daemon,
                               world.Run(Concat(kArrayMaps, {"--ro-bind", private_root, private_root}),
                                         {"/bin/ls", private_root}));
  CHECK(listed.exit_code != 0);
  CHECK(Contains(listed.err, "Permission denied"));
}

// tokenbox fuzz as the user, with a stand-in fuzzer (tests/stand_in_fuzzer.h): its corpus and
// artifact directories, the user's own and private, are writable inside and what the fuzzer
// writes there is the user's; the host is not; a crash is reported.
TEST_CASE("tokenbox fuzz works for the user, its corpus and crash the user's afterwards") {
  TB_REQUIRE_WORLD();
  const std::string fuzzer =
      world.staged.Write("stand_in_fuzzer", testing::kStandInFuzzer, 0755);
  const std::string corpus = world.staged.dir() + "/corpus", artifacts = world.staged.dir() + "/art";
  for (const std::string& dir : {corpus, artifacts}) {
    REQUIRE(mkdir(dir.c_str(), 0700) == 0);
    REQUIRE(chown(dir.c_str(), world.granted.uid(), world.granted.uid()) == 0);
  }
  CommandResult r = RunAs(world.granted, world.daemon,
                          {world.staged.path("tokenbox"), "fuzz", "--delegate-cmds=map_create",
                           "--delegate-maps=array", "--", fuzzer,
                           "-artifact_prefix=" + artifacts + "/", corpus});
  INFO(r.err);
  CHECK(r.exit_code == 77);
  CHECK_FALSE(Contains(r.err, "HOST WRITABLE"));
  CHECK(access("/etc/tokenbox-fuzz-escape", F_OK) != 0);
  CHECK(Contains(r.err, "tokenbox fuzz: the fuzzer exited with code 77 after: ==2== ERROR: "
                        "libFuzzer: deadly signal; the input is saved at " + artifacts +
                            "/crash-1234\n"));
  CHECK(Contains(r.err, "corpus writable"));
  for (const std::string& file : {corpus + "/new-entry", artifacts + "/crash-1234"}) {
    struct stat st;
    CHECK(stat(file.c_str(), &st) == 0);
    CHECK(st.st_uid == world.granted.uid());
  }
  // The user cleans up what the fuzzer made, as a fuzzing job does.
  CHECK(RunAs(world.granted, world.daemon,
              {"/bin/rm", "-r", corpus + "/new-entry", artifacts + "/crash-1234"})
            .exit_code == 0);
  rmdir(corpus.c_str());
  rmdir(artifacts.c_str());
}

// The daemon's steps and the child's are printed where the caller's stderr is, as a root
// launch prints its own.
TEST_CASE("--verbose through tokenboxd prints each step on the caller's stderr") {
  TB_REQUIRE_WORLD();
  CommandResult r = RunAs(world.granted, world.daemon,
                          world.Run(Concat(kArrayMaps, {"--verbose"}), {"/bin/true"}));
  INFO(r.err);
  CHECK(r.exit_code == 0);
  for (const char* step : {"launcher: leased host id ", "launcher: forked the child\n",
                           "child: create BPF token\n", "child: drop capabilities\n",
                           "launcher: program started (execve succeeded)\n"}) {
    CHECK(Contains(r.err, step));
  }
  CHECK_FALSE(Contains(world.daemon.log(), "child: create BPF token"));
}

TEST_CASE("Exit codes, a timeout and a fork server work as for root") {
  TB_REQUIRE_WORLD();
  CHECK(RunAs(world.granted, world.daemon, world.Run(kArrayMaps, {"/bin/sh", "-c", "exit 7"}))
            .exit_code == 7);
  CHECK(RunAs(world.granted, world.daemon, world.Run(kArrayMaps, {"/bin/sh", "-c", "kill -TERM $$"}))
            .exit_code == 128 + SIGTERM);
  CHECK(RunAs(world.granted, world.daemon, world.Run(kArrayMaps, {"/no/such/program"}))
            .exit_code == 127);
  CommandResult timed_out = RunAs(world.granted, world.daemon,
                                  world.Run(Concat(kArrayMaps, {"--timeout=500ms"}),
                                            {"/bin/sleep", "100"}));
  CHECK(timed_out.exit_code == 124);
  CommandResult via_server = RunAs(
      world.granted, world.daemon,
      world.Run(Concat(kArrayMaps, {"--via-fork-server"}), {"/bin/sh", "-c", "echo served; exit 3"}));
  CHECK(via_server.exit_code == 3);
  CHECK(via_server.out == "served\n");
}

TEST_CASE("A caller SIGKILLed while its sandbox runs ends the sandbox, its cgroups and its lease") {
  TB_REQUIRE_WORLD();
  const std::string marker = absl::StrCat("tokenboxd-orphan-", getpid());
  // The marker is the shell's $0: in its arguments, and in tokenbox's.
  std::vector<std::string> argv = world.Run(kArrayMaps, {"/bin/sh", "-c", "sleep 100; :", marker});
  std::vector<char*> args;
  for (std::string& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  std::vector<std::string> env = world.daemon.CallerEnvironment();
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const uid_t uid = world.granted.uid();
  pid_t caller = fork();
  REQUIRE(caller >= 0);
  if (caller == 0) {
    if (setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0) _exit(200);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  const std::string launched = absl::StrCat("run /bin/sh -c sleep 100; : ", marker);
  REQUIRE(world.daemon.AwaitLog(launched));
  // The caller (tokenbox) and the shell in the sandbox (and, for a moment, the shell's fork for
  // sleep).
  std::vector<pid_t> sleeping = testing::ProcessesWithArgument(marker);
  REQUIRE(sleeping.size() >= 2);
  CHECK_FALSE(testing::CgroupsMadeBy(world.daemon.pid()).empty());
  kill(caller, SIGKILL);
  waitpid(caller, nullptr, 0);
  REQUIRE(world.daemon.AwaitLog(
      absl::StrCat(launched, " [delegate_cmds=map_create,delegate_maps=array]: ended")));
  for (pid_t pid : sleeping) CHECK(testing::AwaitExit(pid));
  CHECK(testing::CgroupsMadeBy(world.daemon.pid()).empty());
  CHECK(testing::LeasesHeldBy(world.daemon.pid()).empty());
}

#if defined(__SANITIZE_ADDRESS__)
// GCC 12's AddressSanitizer allocator takes no lock around fork(): a child tokenboxd forks while
// another of its threads holds an allocator lock deadlocks (docs/SECURITY.md, "Known limits"),
// so under ASan the callers take turns. glibc's malloc is fork-safe: the plain build serves
// them all at once.
constexpr bool kCallersInTurns = true;
#else
constexpr bool kCallersInTurns = false;
#endif

TEST_CASE("Many callers at once are each served, and leave nothing behind") {
  TB_REQUIRE_WORLD();
  constexpr int kCallers = 100;
  std::vector<int> codes(kCallers, -1);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] {
      const TestUser& user = i % 2 == 0 ? world.granted : world.member;
      codes[i] = RunAs(user, world.daemon, world.Run(kArrayMaps, {"/bin/true"}),
                       absl::Seconds(120))
                     .exit_code;
    });
    if (kCallersInTurns) threads.back().join();
  }
  for (std::thread& thread : threads) {
    if (thread.joinable()) thread.join();
  }
  for (int i = 0; i < kCallers; ++i) {
    CAPTURE(i);
    CHECK(codes[i] == 0);
  }
  INFO(absl::StrJoin(testing::CgroupsMadeBy(world.daemon.pid()), " "));
  INFO(world.daemon.log());
  CHECK(testing::CgroupsMadeBy(world.daemon.pid()).empty());
  CHECK(testing::LeasesHeldBy(world.daemon.pid()).empty());
}

// tokenbox policy, which hands over to the tokenboxd beside it: the administrator checks a file
// and sees a user's grant; a user sees their own. tokenbox probe asks the daemon.
TEST_CASE("tokenbox policy and probe show a user what the daemon grants, and the file's errors") {
  TB_REQUIRE_WORLD();
  const std::string tokenbox = world.staged.path("tokenbox");
  const std::string policy = world.daemon.policy_path();
  CommandResult checked = testing::RunCommand({tokenbox, "policy", "check", policy});
  INFO(checked.err);
  CHECK(checked.exit_code == 0);
  CHECK(checked.out == absl::StrCat(policy, ": 2 grants, valid\n"));
  CommandResult own = RunAs(world.granted, world.daemon, {tokenbox, "policy", "show", policy});
  CHECK(own.exit_code == 0);
  CHECK(Contains(own.out, absl::StrCat(kGranted, ": lines 2 of ", policy, "\n")));
  CHECK(Contains(own.out, "  grants        cmds=map_create:prog_load:btf_load maps=array "
                          "progs=socket_filter attachs=any\n"));
  CommandResult member = testing::RunCommand(
      {tokenbox, "policy", "show", absl::StrCat("--user=", kMember), policy});
  CHECK(member.exit_code == 0);
  CHECK(Contains(member.out, absl::StrCat(kMember, ": lines 3 of ", policy, "\n")));
  CHECK(Contains(member.out, "  grants        cmds=map_create maps=array\n"));
  CommandResult stranger = RunAs(world.stranger, world.daemon, {tokenbox, "policy", "show", policy});
  CHECK(stranger.exit_code == 0);
  CHECK(Contains(stranger.out, "tokenboxd grants nothing"));
  // A bad line is named by file and line, and makes the whole file grant nothing.
  const std::string bad = world.staged.Write("bad.conf", "tbx-granted cmds=map_create\n* cmds=fly\n", 0644);
  CommandResult invalid = testing::RunCommand({tokenbox, "policy", "check", bad});
  CHECK(invalid.exit_code == 1);
  CHECK(Contains(invalid.err, absl::StrCat(bad, ":2: ")));
  CHECK(testing::RunCommand({tokenbox, "policy", "fly"}).exit_code == 2);
  // The user's probe reaches the daemon, and makes a token in a sandbox it starts.
  CommandResult probe = RunAs(world.granted, world.daemon, {tokenbox, "probe"});
  INFO(probe.out);
  CHECK(Contains(probe.out, "\nok       tokenboxd "));
  CHECK(Contains(probe.out, "grants cmds=map_create:prog_load:btf_load maps=array"));
  CHECK(Contains(probe.out, "\nok       BPF token: creation "));
  CommandResult refused = RunAs(world.stranger, world.daemon, {tokenbox, "probe"});
  CHECK(refused.exit_code == 1);
  CHECK(Contains(refused.out, "\nMISSING  tokenboxd "));
  CHECK(Contains(refused.out, "no line of"));
}

TEST_CASE("A policy that is not root's, or not valid, grants nothing, and says where") {
  TB_REQUIRE_WORLD();
  world.daemon.SetPolicy(kPolicyText + "tbx-granted frobs=1\n");
  CommandResult syntax = RunAs(world.granted, world.daemon, world.Run(kArrayMaps, {"/bin/true"}));
  CHECK(syntax.exit_code == 125);
  CHECK(Contains(syntax.err, absl::StrCat(world.daemon.policy_path(), ":4: unknown item 'frobs'")));
  world.daemon.SetPolicy(kPolicyText);
  REQUIRE(chmod(world.daemon.policy_path().c_str(), 0666) == 0);
  CommandResult mode = RunAs(world.granted, world.daemon, world.Run(kArrayMaps, {"/bin/true"}));
  CHECK(mode.exit_code == 125);
  CHECK(Contains(mode.err, "must be root's and writable by no one else"));
  world.daemon.SetPolicy(kPolicyText);
  REQUIRE(chown(world.daemon.policy_path().c_str(), world.granted.uid(), 0) == 0);
  CommandResult owner = RunAs(world.granted, world.daemon, world.Run(kArrayMaps, {"/bin/true"}));
  CHECK(owner.exit_code == 125);
  CHECK(Contains(owner.err, absl::StrCat("it is uid ", world.granted.uid(), "'s")));
  world.daemon.SetPolicy(kPolicyText);
  CHECK(RunAs(world.granted, world.daemon, world.Run(kArrayMaps, {"/bin/true"})).exit_code == 0);
}

TEST_CASE("A daemon SIGKILLed with sandboxes running takes them with it; a new one sweeps") {
  TB_REQUIRE_WORLD();
  const std::string marker = absl::StrCat("tokenboxd-killed-", getpid());
  CommandResult told;
  std::thread caller([&] {
    told = RunAs(world.granted, world.daemon,
                 world.Run(kArrayMaps, {"/bin/sh", "-c", "sleep 100; :", marker}));
  });
  absl::Cleanup join = [&] {
    if (caller.joinable()) caller.join();
  };
  REQUIRE(world.daemon.AwaitLog(absl::StrCat("run /bin/sh -c sleep 100; : ", marker)));
  std::vector<pid_t> sleeping = testing::ProcessesWithArgument(marker);
  REQUIRE(sleeping.size() >= 2);
  const pid_t dead_daemon = world.daemon.pid();
  world.daemon.Kill();
  caller.join();
  CHECK(told.exit_code == 125);
  CHECK(Contains(told.err, "tokenboxd, which started the sandbox, went away before it ended"));
  for (pid_t pid : sleeping) CHECK(testing::AwaitExit(pid));
  world.daemon.Restart();
  REQUIRE(world.daemon.running());
  CHECK(RunAs(world.granted, world.daemon, world.Run(kArrayMaps, {"/bin/true"})).exit_code == 0);
  CHECK(testing::CgroupsMadeBy(dead_daemon).empty());
}

}  // namespace
}  // namespace tokenbox
