// A libFuzzer target that exercises BPF through a tokenbox sandbox's token: fuzzed sequences of
// update, lookup and delete on a hash map, checked against a model of what the map must hold.
// Run it with: tokenbox fuzz --delegate-cmds=map_create --delegate-maps=hash -- map_fuzzer ...
//
// TOKENBOX_PLANTED_CRASH=1 plants a crash on inputs that contain "boom", to check that a crash
// is caught and reported (CI does).
#include <bpf/bpf.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

namespace {

constexpr uint32_t kMaxEntries = 64;

struct Value {
  uint64_t a, b;
  bool operator==(const Value& other) const { return a == other.a && b == other.b; }
};

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "map_fuzzer: %s (errno %d: %s)\n", what, errno, std::strerror(errno));
  std::abort();
}

// The map is made once, through the token the sandbox passed in TOKENBOX_TOKEN_FD.
int Map() {
  static const int fd = [] {
    const char* token = std::getenv("TOKENBOX_TOKEN_FD");
    if (token == nullptr) Die("not in a tokenbox sandbox: TOKENBOX_TOKEN_FD is not set");
    LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_TOKEN_FD,
                .token_fd = static_cast<uint32_t>(std::atoi(token)));
    int map = bpf_map_create(BPF_MAP_TYPE_HASH, "fuzzed", sizeof(uint64_t), sizeof(Value),
                             kMaxEntries, &opts);
    if (map < 0) Die("creating a hash map through the token failed");
    return map;
  }();
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (std::getenv("TOKENBOX_PLANTED_CRASH") != nullptr &&
      memmem(data, size, "boom", 4) != nullptr) {
    __builtin_trap();
  }
  const int map = Map();
  std::map<uint64_t, Value> model;
  // Each operation: 1 byte op, 1 byte key (few keys, so operations collide), 16 bytes value.
  constexpr size_t kOpSize = 18;
  for (size_t at = 0; at + kOpSize <= size; at += kOpSize) {
    uint64_t key = data[at + 1] % 80;  // Some keys do not fit: the map holds 64.
    Value value;
    std::memcpy(&value, data + at + 2, sizeof(value));
    switch (data[at] % 3) {
      case 0: {
        int result = bpf_map_update_elem(map, &key, &value, BPF_ANY);
        bool fits = model.count(key) != 0 || model.size() < kMaxEntries;
        if ((result == 0) != fits) Die("update succeeded or failed against the model");
        if (result == 0) model[key] = value;
        break;
      }
      case 1: {
        Value found;
        int result = bpf_map_lookup_elem(map, &key, &found);
        auto expected = model.find(key);
        if ((result == 0) != (expected != model.end())) Die("lookup disagrees with the model");
        if (result == 0 && !(found == expected->second)) Die("lookup returned a wrong value");
        break;
      }
      default: {
        int result = bpf_map_delete_elem(map, &key);
        if ((result == 0) != (model.erase(key) == 1)) Die("delete disagrees with the model");
      }
    }
  }
  for (const auto& [key, value] : model) bpf_map_delete_elem(map, &key);  // Next input: empty.
  return 0;
}
