#include "sandbox/command_codec.h"

#include <cstdint>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"

namespace tokenbox {
namespace {

// Every field is a 32-bit length or count followed by that many bytes or items.
constexpr uint32_t kMaxItems = 1 << 16;
constexpr uint32_t kMaxString = 1 << 20;

void PutU32(std::string* out, uint32_t value) { out->append(reinterpret_cast<char*>(&value), 4); }
void PutU64(std::string* out, uint64_t value) { out->append(reinterpret_cast<char*>(&value), 8); }
void PutString(std::string* out, absl::string_view text) {
  PutU32(out, static_cast<uint32_t>(text.size()));
  out->append(text.data(), text.size());
}
void PutStrings(std::string* out, const std::vector<std::string>& strings) {
  PutU32(out, static_cast<uint32_t>(strings.size()));
  for (const std::string& s : strings) PutString(out, s);
}

class Reader {
 public:
  explicit Reader(absl::string_view bytes) : rest_(bytes) {}

  bool U32(uint32_t* value) { return Take(value, 4); }
  bool U64(uint64_t* value) { return Take(value, 8); }
  bool String(std::string* text) {
    uint32_t size;
    if (!U32(&size) || size > kMaxString || size > rest_.size()) return false;
    text->assign(rest_.data(), size);
    rest_.remove_prefix(size);
    return true;
  }
  bool Strings(std::vector<std::string>* strings) {
    uint32_t count;
    if (!U32(&count) || count > kMaxItems) return false;
    strings->resize(count);
    for (std::string& s : *strings) {
      if (!String(&s)) return false;
    }
    return true;
  }
  bool done() const { return rest_.empty(); }

 private:
  bool Take(void* value, size_t size) {
    if (rest_.size() < size) return false;
    std::memcpy(value, rest_.data(), size);
    rest_.remove_prefix(size);
    return true;
  }
  absl::string_view rest_;
};

}  // namespace

std::string CommandCodec::Encode(const Command& command) {
  std::string out;
  PutU32(&out, static_cast<uint32_t>(command.kind_));
  PutStrings(&out, command.argv_);
  PutStrings(&out, command.environment_);
  PutU32(&out, command.working_directory_.has_value() ? 1 : 0);
  PutString(&out, command.working_directory_.value_or(""));
  PutString(&out, command.launcher_directory_);
  PutU32(&out, static_cast<uint32_t>(command.resource_limits_.size()));
  for (const ResourceLimit& limit : command.resource_limits_) {
    PutU32(&out, static_cast<uint32_t>(limit.resource));
    PutU64(&out, limit.soft);
    PutU64(&out, limit.hard);
  }
  PutU64(&out, command.timeout_.has_value()
                   ? static_cast<uint64_t>(absl::ToInt64Nanoseconds(*command.timeout_))
                   : 0);
  PutU32(&out, static_cast<uint32_t>(command.passed_fds_.size()));
  for (const PassedFd& passed : command.passed_fds_) PutU32(&out, static_cast<uint32_t>(passed.target));
  PutU32(&out, command.controlling_terminal_ ? 1 : 0);
  PutU32(&out, command.own_terminal_.has_value() ? 1 : 0);
  const winsize size = command.own_terminal_.value_or(winsize{});
  for (uint16_t field : {size.ws_row, size.ws_col, size.ws_xpixel, size.ws_ypixel}) {
    PutU32(&out, field);
  }
  return out;
}

absl::StatusOr<Command> CommandCodec::Decode(absl::string_view bytes, std::vector<UniqueFd> fds) {
  Command command;
  Reader reader(bytes);
  uint32_t kind = 0, has_cwd = 0, limits = 0, targets = 0, controlling_terminal = 0;
  uint64_t timeout_ns = 0;
  std::string cwd;
  bool ok = reader.U32(&kind) && reader.Strings(&command.argv_) &&
            reader.Strings(&command.environment_) && reader.U32(&has_cwd) &&
            reader.String(&cwd) && reader.String(&command.launcher_directory_) &&
            reader.U32(&limits) && limits <= RLIM_NLIMITS;
  for (uint32_t i = 0; ok && i < limits; ++i) {
    uint32_t resource = 0;
    uint64_t soft = 0, hard = 0;
    ok = reader.U32(&resource) && reader.U64(&soft) && reader.U64(&hard) &&
         resource < RLIM_NLIMITS;
    command.resource_limits_.push_back({static_cast<int>(resource), soft, hard});
  }
  ok = ok && reader.U64(&timeout_ns) && reader.U32(&targets) && targets == fds.size();
  for (uint32_t i = 0; ok && i < targets; ++i) {
    uint32_t target = 0;
    ok = reader.U32(&target) && target < (1u << 20);
    command.passed_fds_.push_back({std::make_shared<UniqueFd>(std::move(fds[i])),
                                   static_cast<int>(target)});
  }
  ok = ok && reader.U32(&controlling_terminal) && controlling_terminal <= 1;
  uint32_t own_terminal = 0;
  uint32_t size[4] = {};
  ok = ok && reader.U32(&own_terminal) && own_terminal <= 1;
  for (uint32_t& field : size) ok = ok && reader.U32(&field) && field <= UINT16_MAX;
  if (!ok || !reader.done()) return absl::DataLossError("malformed fork-server command");
  command.controlling_terminal_ = controlling_terminal == 1;
  if (own_terminal == 1) {
    command.own_terminal_ = winsize{static_cast<uint16_t>(size[0]), static_cast<uint16_t>(size[1]),
                                    static_cast<uint16_t>(size[2]), static_cast<uint16_t>(size[3])};
  }
  if (kind == static_cast<uint32_t>(Command::Kind::kProgram)) {
    if (command.argv_.empty() || command.argv_[0].empty()) {
      return absl::InvalidArgumentError("the command has no program");
    }
  } else if (kind == static_cast<uint32_t>(Command::Kind::kForkServerFunction)) {
    command.argv_.clear();
  } else {
    // ForkServer::Launch() refuses a Kind::kFunction command before encoding it.
    return absl::DataLossError(absl::StrCat("malformed fork-server command: kind ", kind));
  }
  command.kind_ = static_cast<Command::Kind>(kind);
  if (has_cwd != 0) command.working_directory_ = cwd;
  if (timeout_ns != 0) command.timeout_ = absl::Nanoseconds(static_cast<int64_t>(timeout_ns));
  return command;
}

}  // namespace tokenbox
