#include "sandbox/launch_request.h"

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

std::string LaunchRequestCodec::Encode(const SandboxSpec& launch) {
  std::string out;
  PutU32(&out, launch.runs_function() ? 1 : 0);
  PutStrings(&out, launch.argv_);
  PutStrings(&out, launch.environment_);
  PutU32(&out, launch.working_directory_.has_value() ? 1 : 0);
  PutString(&out, launch.working_directory_.value_or(""));
  PutU32(&out, static_cast<uint32_t>(launch.resource_limits_.size()));
  for (const ResourceLimit& limit : launch.resource_limits_) {
    PutU32(&out, static_cast<uint32_t>(limit.resource));
    PutU64(&out, limit.soft);
    PutU64(&out, limit.hard);
  }
  PutU32(&out, static_cast<uint32_t>(launch.passed_fds_.size()));
  for (const PassedFd& passed : launch.passed_fds_) PutU32(&out, static_cast<uint32_t>(passed.target));
  return out;
}

absl::StatusOr<SandboxSpec> LaunchRequestCodec::Decode(const SandboxSpec& sandbox,
                                                       absl::string_view bytes,
                                                       std::vector<UniqueFd> fds) {
  SandboxSpec launch = sandbox;
  Reader reader(bytes);
  uint32_t runs_function = 0, has_cwd = 0, limits = 0, targets = 0;
  std::string cwd;
  bool ok = reader.U32(&runs_function) && reader.Strings(&launch.argv_) &&
            reader.Strings(&launch.environment_) && reader.U32(&has_cwd) && reader.String(&cwd) &&
            reader.U32(&limits) && limits <= RLIM_NLIMITS;
  launch.resource_limits_.clear();
  for (uint32_t i = 0; ok && i < limits; ++i) {
    uint32_t resource = 0;
    uint64_t soft = 0, hard = 0;
    ok = reader.U32(&resource) && reader.U64(&soft) && reader.U64(&hard) &&
         resource < RLIM_NLIMITS;
    launch.resource_limits_.push_back({static_cast<int>(resource), soft, hard});
  }
  ok = ok && reader.U32(&targets) && targets == fds.size();
  launch.passed_fds_.clear();
  for (uint32_t i = 0; ok && i < targets; ++i) {
    uint32_t target = 0;
    ok = reader.U32(&target) && target < (1u << 20);
    launch.passed_fds_.push_back({std::make_shared<UniqueFd>(std::move(fds[i])),
                                  static_cast<int>(target)});
  }
  if (!ok || !reader.done()) {
    return absl::DataLossError("malformed fork-server launch request");
  }
  if (runs_function != 0) {
    if (!sandbox.runs_function()) {
      return absl::InvalidArgumentError(
          "a function launch needs a fork server started with a function: a callable cannot be "
          "carried into the prepared sandbox");
    }
    launch.argv_.clear();
  } else {
    if (launch.argv_.empty()) return absl::InvalidArgumentError("the launch has no program");
    launch.function_ = nullptr;
  }
  launch.working_directory_.reset();
  if (has_cwd != 0) launch.working_directory_ = cwd;
  return launch;
}

}  // namespace tokenbox
