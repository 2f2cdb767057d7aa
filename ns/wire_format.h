#ifndef TOKENBOX_NS_WIRE_FORMAT_H_
#define TOKENBOX_NS_WIRE_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace tokenbox {

// The one way tokenbox lays out what crosses a process boundary in bytes (a command for a fork
// server's zygote, a sandbox and a command for tokenboxd): 32- and 64-bit numbers in host byte
// order (both ends run on one machine), and strings as a 32-bit length and that many bytes. The reader takes input from any process as
// hostile: every read is bounded by what is left, and by the limits below, and a failed read
// fails all later ones, so a decoder checks once, at the end.
class WireWriter {
 public:
  void U32(uint32_t value);
  void U64(uint64_t value);
  void Bool(bool value) { U32(value ? 1 : 0); }
  void String(absl::string_view text);
  void Strings(const std::vector<std::string>& strings);

  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

class WireReader {
 public:
  static constexpr uint32_t kMaxItems = 1 << 16;     // Strings in a list.
  static constexpr uint32_t kMaxString = 1 << 20;    // Bytes in a string.

  explicit WireReader(absl::string_view bytes) : rest_(bytes) {}

  // Each returns false, and makes every later read fail, when the input ends early or breaks a
  // limit.
  bool U32(uint32_t* value);
  bool U64(uint64_t* value);
  bool Bool(bool* value);  // Only 0 or 1.
  // A number at most `max`.
  bool U32AtMost(uint32_t max, uint32_t* value);
  bool String(std::string* text);
  bool Strings(std::vector<std::string>* strings);

  // Whether every read succeeded and nothing is left over.
  bool Done() const { return ok_ && rest_.empty(); }
  bool ok() const { return ok_; }

 private:
  bool Take(void* value, size_t size);

  absl::string_view rest_;
  bool ok_ = true;
};

}  // namespace tokenbox

#endif  // TOKENBOX_NS_WIRE_FORMAT_H_
