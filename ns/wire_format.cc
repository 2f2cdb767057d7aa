#include "ns/wire_format.h"

#include <cstring>

namespace tokenbox {

void WireWriter::U32(uint32_t value) { out_.append(reinterpret_cast<const char*>(&value), 4); }

void WireWriter::U64(uint64_t value) { out_.append(reinterpret_cast<const char*>(&value), 8); }

void WireWriter::String(absl::string_view text) {
  U32(static_cast<uint32_t>(text.size()));
  out_.append(text.data(), text.size());
}

void WireWriter::Strings(const std::vector<std::string>& strings) {
  U32(static_cast<uint32_t>(strings.size()));
  for (const std::string& s : strings) String(s);
}

bool WireReader::Take(void* value, size_t size) {
  if (!ok_ || rest_.size() < size) return ok_ = false;
  std::memcpy(value, rest_.data(), size);
  rest_.remove_prefix(size);
  return true;
}

bool WireReader::U32(uint32_t* value) { return Take(value, 4); }

bool WireReader::U64(uint64_t* value) { return Take(value, 8); }

bool WireReader::U32AtMost(uint32_t max, uint32_t* value) {
  if (!U32(value)) return false;
  if (*value > max) return ok_ = false;
  return true;
}

bool WireReader::Bool(bool* value) {
  uint32_t raw = 0;
  if (!U32AtMost(1, &raw)) return false;
  *value = raw == 1;
  return true;
}

bool WireReader::String(std::string* text) {
  uint32_t size = 0;
  if (!U32AtMost(kMaxString, &size)) return false;
  if (rest_.size() < size) return ok_ = false;
  text->assign(rest_.data(), size);
  rest_.remove_prefix(size);
  return true;
}

bool WireReader::Strings(std::vector<std::string>* strings) {
  uint32_t count = 0;
  if (!U32AtMost(kMaxItems, &count)) return false;
  strings->clear();
  for (uint32_t i = 0; i < count; ++i) {
    std::string s;
    if (!String(&s)) return false;
    strings->push_back(std::move(s));
  }
  return true;
}

}  // namespace tokenbox
