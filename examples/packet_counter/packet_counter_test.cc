// What can be checked without a sandbox: the loader refuses to run outside one, and the genrule
// produced a BPF object with the sections libbpf needs. Loading it needs a real sandbox: run it
// with `tokenbox run` (see packet_counter.cc for the policy it expects).
#include <elf.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/command_runner.h"
#include "tests/test_support.h"

extern char** environ;

namespace tokenbox::testing {
namespace {

constexpr char kLoaderPath[] = "examples/packet_counter/packet_counter";
constexpr char kObjectPath[] = "examples/packet_counter/packet_counter.bpf.o";

// This process's environment without the variables that mark a tokenbox sandbox, plus `extra`.
std::vector<std::string> EnvironmentOutsideSandbox(const std::vector<std::string>& extra = {}) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (absl::StartsWith(*entry, "TOKENBOX_TOKEN_FD=") ||
        absl::StartsWith(*entry, "LIBBPF_BPF_TOKEN_PATH=")) {
      continue;
    }
    env.push_back(*entry);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The names of an ELF64 file's sections; empty when the headers do not fit in `elf`.
std::set<std::string> SectionNames(const std::string& elf) {
  Elf64_Ehdr header;
  std::memcpy(&header, elf.data(), sizeof(header));
  const uint64_t table_end = header.e_shoff + uint64_t{header.e_shnum} * sizeof(Elf64_Shdr);
  if (header.e_shentsize != sizeof(Elf64_Shdr) || table_end > elf.size() ||
      header.e_shstrndx >= header.e_shnum) {
    return {};
  }
  std::vector<Elf64_Shdr> sections(header.e_shnum);
  std::memcpy(sections.data(), elf.data() + header.e_shoff, header.e_shnum * sizeof(Elf64_Shdr));
  const Elf64_Shdr& names = sections[header.e_shstrndx];
  if (names.sh_offset + names.sh_size > elf.size()) return {};
  std::set<std::string> result;
  for (const Elf64_Shdr& section : sections) {
    if (section.sh_name >= names.sh_size) continue;
    const char* name = elf.data() + names.sh_offset + section.sh_name;
    result.insert(std::string(name, strnlen(name, names.sh_size - section.sh_name)));
  }
  return result;
}

TEST_CASE("outside a sandbox the loader says so and exits 2") {
  CommandResult result = RunCommand({kLoaderPath}, {.env = EnvironmentOutsideSandbox()});
  CHECK(result.exit_code == 2);
  CHECK_MESSAGE(absl::StrContains(result.err, "not running in a tokenbox sandbox"), result.err);
  CHECK(result.out.empty());
}

TEST_CASE("a token fd that is not a token is refused before anything is loaded") {
  // fd 200 is not open in the child: RunCommand passes on only stdin, stdout and stderr.
  CommandResult result =
      RunCommand({kLoaderPath}, {.env = EnvironmentOutsideSandbox({"TOKENBOX_TOKEN_FD=200"})});
  CHECK(result.exit_code == 2);
  CHECK_MESSAGE(absl::StrContains(result.err, "not an open BPF token"), result.err);
  CHECK(result.out.empty());
}

TEST_CASE("bad arguments are a usage error") {
  for (const char* arg : {"--packets=0", "--packets=ten", "--object=", "--frobnicate"}) {
    CAPTURE(arg);
    CommandResult result = RunCommand({kLoaderPath, arg}, {.env = EnvironmentOutsideSandbox()});
    CHECK(result.exit_code == 2);
    CHECK_MESSAGE(absl::StrContains(result.err, "see --help"), result.err);
  }
  CommandResult help = RunCommand({kLoaderPath, "--help"});
  CHECK(help.exit_code == 0);
  CHECK(absl::StrContains(help.out, "Usage: packet_counter"));
}

TEST_CASE("the genrule built a BPF ELF object with the program, its map and a license") {
  const std::string elf = ReadWholeFile(kObjectPath);
  REQUIRE_MESSAGE(elf.size() >= sizeof(Elf64_Ehdr), kObjectPath, " is missing or too short");
  Elf64_Ehdr header;
  std::memcpy(&header, elf.data(), sizeof(header));
  CHECK(std::memcmp(header.e_ident, ELFMAG, SELFMAG) == 0);
  CHECK(header.e_ident[EI_CLASS] == ELFCLASS64);
  CHECK(header.e_type == ET_REL);
  CHECK(header.e_machine == EM_BPF);
  CHECK(header.e_machine == 247);

  const std::set<std::string> sections = SectionNames(elf);
  CHECK(sections.count("socket") == 1);   // SEC("socket"): a socket filter.
  CHECK(sections.count(".maps") == 1);    // The BTF-defined counter map.
  CHECK(sections.count("license") == 1);  // Without GPL the helpers it calls are refused.
  CHECK(sections.count(".BTF") == 1);     // -g: libbpf needs BTF for .maps definitions.
}

}  // namespace
}  // namespace tokenbox::testing
