#include "sandbox/child/exec_program.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ns/errno_status.h"

namespace tokenbox {
namespace {

constexpr char kDefaultPath[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

bool Exists(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0;
}

// What one exec attempt, or a whole PATH search, found.
struct ExecOutcome {
  int err = ENOENT;
  std::string found_without_interpreter;  // It is there; what it needs to run is not.
  std::vector<std::string> unsearchable;  // PATH directories closed to the sandbox's user.
};

std::string Remedy(const ExecOutcome& outcome, const std::string& program, uint32_t host_uid) {
  if (!outcome.found_without_interpreter.empty()) {
    return absl::StrCat("'", Printable(outcome.found_without_interpreter, 256),
                        "' exists, but the interpreter on its #! line, or the dynamic loader it "
                        "names, does not exist inside the sandbox");
  }
  switch (outcome.err) {
    case ENOENT: {
      std::string remedy = absl::StrCat("program not found: '", Printable(program, 256),
                                        "' does not exist inside the sandbox",
                                        program.find('/') == std::string::npos ? " or in its PATH" : "");
      if (!outcome.unsearchable.empty()) {
        absl::StrAppend(&remedy, " (PATH directories the sandbox's user cannot search: ",
                        absl::StrJoin(outcome.unsearchable, ", "), ")");
      }
      return remedy;
    }
    case EACCES:
    case EPERM:
      return absl::StrCat("'", Printable(program, 256),
                          "' is not executable by the sandbox's user (host uid ", host_uid,
                          "): check its mode, and that every directory above it lets that user "
                          "search it");
    case ENOEXEC:
      return absl::StrCat("'", Printable(program, 256),
                          "' is not in an executable format (a script without #!?)");
    default:
      return "";
  }
}

}  // namespace

absl::Status ExecProgram(const std::vector<std::string>& argv,
                         const std::vector<std::string>& environment, uint32_t host_uid) {
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  std::string path = kDefaultPath;
  for (const std::string& entry : environment) {
    envp.push_back(const_cast<char*>(entry.c_str()));
    if (absl::StartsWith(entry, "PATH=")) path = entry.substr(5);
  }
  envp.push_back(nullptr);
  const std::string& program = argv[0];
  ExecOutcome outcome;
  if (program.find('/') != std::string::npos) {
    execve(program.c_str(), args.data(), envp.data());
    outcome.err = errno;
    if (outcome.err == ENOENT && Exists(program)) outcome.found_without_interpreter = program;
  } else {
    // The PATH search is done here rather than by execvpe(), which reports EACCES for a program
    // that exists nowhere as soon as one PATH directory is closed to the sandbox's user.
    for (absl::string_view dir : absl::StrSplit(path, ':')) {
      std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/", program);
      execve(candidate.c_str(), args.data(), envp.data());
      const int err = errno;
      if (err == ENOENT && Exists(candidate)) {
        outcome.found_without_interpreter = candidate;
        break;
      }
      if (err == ENOENT || err == ENOTDIR) continue;
      if (err != EACCES) {
        outcome.err = err;
        break;
      }
      if (Exists(candidate)) {
        outcome.err = EACCES;  // Found but not executable; a later directory may still have it.
      } else {
        outcome.unsearchable.emplace_back(dir);  // The directory, not the program, is closed.
      }
    }
  }
  return ErrnoStatus(outcome.err, absl::StrCat("execve(", Printable(program, 256), ")"),
                     Remedy(outcome, program, host_uid));
}

}  // namespace tokenbox
