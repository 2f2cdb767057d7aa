// Runs a fuzz target over its seed corpus with the normal toolchain, so that `bazel test //...`
// checks every seed against the target's invariants without libFuzzer or clang. A broken
// invariant aborts this binary (tests/fuzz/fuzz_check.h), which fails the test.
//
// TOKENBOX_FUZZ_CORPUS is the corpus directory relative to the workspace root, which is the
// working directory of a Bazel test (tests/fuzz/fuzz.bzl defines it and puts the files in data).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/test_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace tokenbox {
namespace {

TEST_CASE("The fuzz target runs every seed input without breaking an invariant") {
  const std::filesystem::path corpus = TOKENBOX_FUZZ_CORPUS;
  INFO("corpus ", corpus.string());
  REQUIRE(std::filesystem::is_directory(corpus));
  std::vector<std::filesystem::path> seeds;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    // Runfiles may be symlinks to the source files: follow them.
    if (std::filesystem::is_regular_file(entry.path())) seeds.push_back(entry.path());
  }
  std::sort(seeds.begin(), seeds.end());
  // An empty or missing corpus would make this test pass without testing anything.
  REQUIRE_FALSE(seeds.empty());

  for (const std::filesystem::path& seed : seeds) {
    INFO("seed ", seed.filename().string());
    std::ifstream in(seed, std::ios::binary);
    REQUIRE(in.good());
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(bytes.size() == std::filesystem::file_size(seed));
    // libFuzzer reserves non-zero return values; a target must always return 0.
    CHECK(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()) ==
          0);
  }
  MESSAGE(seeds.size(), " seed inputs from ", corpus.string());
}

}  // namespace
}  // namespace tokenbox
