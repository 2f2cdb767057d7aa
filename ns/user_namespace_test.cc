#include "ns/user_namespace.h"

#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "ns/fd_passing.h"
#include "tests/test_support.h"

namespace tokenbox {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The first id ("Uid:" or "Gid:" line, real id) of `pid` as /proc shows it to the reader.
std::string StatusIds(pid_t pid, const std::string& key) {
  std::istringstream status(ReadFile(absl::StrCat("/proc/", pid, "/status")));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(key, 0) == 0) {
      std::istringstream fields(line.substr(key.size()));
      std::string real;
      fields >> real;
      return real;
    }
  }
  return "";
}

enum : uint32_t { kUnshared = 1, kMapsWritten = 2, kEntered = 3 };

TEST_CASE("A child enters a user namespace with a range map; both sides see the right ids") {
  TB_REQUIRE_PRIVILEGE();
  auto uid_map = IdMap::Parse("0:100000:65536");
  auto gid_map = IdMap::Parse("0:200000:65536");
  TB_REQUIRE_OK(uid_map);
  TB_REQUIRE_OK(gid_map);
  auto pair = MakeSocketPair();
  TB_REQUIRE_OK(pair);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    pair->parent.Reset();
    int sock = pair->child.get();
    auto report = [&](absl::Status s) {
      (void)SendFdMessage(sock, 99, s.ToString());
      _exit(1);
    };
    if (absl::Status s = DropSupplementaryGroups(); !s.ok()) report(s);
    if (unshare(CLONE_NEWUSER) != 0) report(absl::InternalError("unshare failed"));
    if (!SendFdMessage(sock, kUnshared).ok()) _exit(2);
    if (!ReceiveExpectedMessage(sock, kMapsWritten, 0, absl::Seconds(10)).ok()) _exit(3);
    if (absl::Status s = EnterMappedIds(1000, 2000); !s.ok()) report(s);
    std::string inside = absl::StrCat(getuid(), " ", getgid(), " ", getgroups(0, nullptr), "|",
                                      ReadFile("/proc/self/uid_map"));
    (void)SendFdMessage(sock, kEntered, inside);
    // Wait for the parent to look at us from outside.
    (void)ReceiveFdMessage(sock, absl::Seconds(10));
    _exit(0);
  }
  pair->child.Reset();
  int sock = pair->parent.get();
  TB_CHECK_OK(ReceiveExpectedMessage(sock, kUnshared, 0, absl::Seconds(10)));
  TB_CHECK_OK(WriteIdMaps(pid, *uid_map, *gid_map));
  TB_CHECK_OK(SendFdMessage(sock, kMapsWritten));
  auto inside = ReceiveExpectedMessage(sock, kEntered, 0, absl::Seconds(10));
  TB_CHECK_OK(inside);
  if (inside.ok()) {
    std::string expected_map_prefix = "1000 2000 0|";
    CHECK(inside->payload.rfind(expected_map_prefix, 0) == 0);
    // Inside, the map reads with the inside ids first.
    CHECK(inside->payload.find("100000") != std::string::npos);
  }
  // Outside, inner uid 1000 is host uid 101000, inner gid 2000 is host gid 202000.
  CHECK(StatusIds(pid, "Uid:") == "101000");
  CHECK(StatusIds(pid, "Gid:") == "202000");
  CHECK(ReadFile(absl::StrCat("/proc/", pid, "/setgroups")) == "deny\n");
  (void)SendFdMessage(sock, kMapsWritten);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("Id maps can be written only once; the second write is refused with EPERM") {
  TB_REQUIRE_PRIVILEGE();
  auto map = IdMap::Single(0, 65534);
  TB_REQUIRE_OK(map);
  auto pair = MakeSocketPair();
  TB_REQUIRE_OK(pair);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    pair->parent.Reset();
    if (unshare(CLONE_NEWUSER) != 0) _exit(1);
    (void)SendFdMessage(pair->child.get(), kUnshared);
    (void)ReceiveFdMessage(pair->child.get(), absl::Seconds(10));
    _exit(0);
  }
  pair->child.Reset();
  TB_CHECK_OK(ReceiveExpectedMessage(pair->parent.get(), kUnshared, 0, absl::Seconds(10)));
  TB_CHECK_OK(WriteIdMaps(pid, *map, *map));
  absl::Status again = WriteIdMaps(pid, *map, *map);
  CHECK(again.code() == absl::StatusCode::kPermissionDenied);
  CHECK(std::string(again.message()).find("setgroups): EPERM") != std::string::npos);
  (void)SendFdMessage(pair->parent.get(), kMapsWritten);
  int status;
  waitpid(pid, &status, 0);
}

TEST_CASE("EnterMappedIds fails with EINVAL for an id that is not mapped") {
  TB_REQUIRE_PRIVILEGE();
  absl::Status result = testing::RunInChild([] {
    if (absl::Status s = DropSupplementaryGroups(); !s.ok()) return s;
    if (unshare(CLONE_NEWUSER) != 0) return absl::InternalError("unshare");
    // No map was written: no id is valid in this namespace.
    return EnterMappedIds(0, 0);
  });
  CHECK(result.code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(result.message()).find("setresgid(0): EINVAL") != std::string::npos);
}

TEST_CASE("Writing maps for a process that does not exist names the file and ENOENT") {
  auto map = IdMap::Single(0, 65534);
  TB_REQUIRE_OK(map);
  absl::Status status = WriteIdMaps(999999999, *map, *map);
  CHECK(status.code() == absl::StatusCode::kNotFound);
  CHECK(std::string(status.message()).find("open(/proc/999999999/setgroups): ENOENT") !=
        std::string::npos);
}

}  // namespace
}  // namespace tokenbox
