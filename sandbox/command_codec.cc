#include "sandbox/command_codec.h"

#include <cstdint>
#include <memory>

#include "absl/strings/str_cat.h"
#include "ns/wire_format.h"

namespace tokenbox {

std::string CommandCodec::Encode(const Command& command, absl::Span<const int> extra_targets) {
  WireWriter out;
  out.U32(static_cast<uint32_t>(command.kind_));
  out.Strings(command.argv_);
  out.Strings(command.environment_);
  out.Bool(command.working_directory_.has_value());
  out.String(command.working_directory_.value_or(""));
  out.String(command.launcher_directory_);
  out.U32(static_cast<uint32_t>(command.resource_limits_.size()));
  for (const ResourceLimit& limit : command.resource_limits_) {
    out.U32(static_cast<uint32_t>(limit.resource));
    out.U64(limit.soft);
    out.U64(limit.hard);
  }
  out.U64(command.timeout_.has_value()
              ? static_cast<uint64_t>(absl::ToInt64Nanoseconds(*command.timeout_))
              : 0);
  out.U32(static_cast<uint32_t>(command.passed_fds_.size() + extra_targets.size()));
  for (const PassedFd& passed : command.passed_fds_) out.U32(static_cast<uint32_t>(passed.target));
  for (int target : extra_targets) out.U32(static_cast<uint32_t>(target));
  out.Bool(command.controlling_terminal_);
  out.Bool(command.own_terminal_.has_value());
  const winsize size = command.own_terminal_.value_or(winsize{});
  for (uint16_t field : {size.ws_row, size.ws_col, size.ws_xpixel, size.ws_ypixel}) out.U32(field);
  return out.bytes();
}

absl::StatusOr<Command> CommandCodec::Decode(absl::string_view bytes, std::vector<UniqueFd> fds) {
  Command command;
  WireReader reader(bytes);
  uint32_t kind = 0, limits = 0, targets = 0;
  bool has_cwd = false, controlling_terminal = false, own_terminal = false;
  uint64_t timeout_ns = 0;
  std::string cwd;
  reader.U32(&kind);
  reader.Strings(&command.argv_);
  reader.Strings(&command.environment_);
  reader.Bool(&has_cwd);
  reader.String(&cwd);
  reader.String(&command.launcher_directory_);
  reader.U32AtMost(RLIM_NLIMITS, &limits);
  for (uint32_t i = 0; reader.ok() && i < limits; ++i) {
    uint32_t resource = 0;
    uint64_t soft = 0, hard = 0;
    if (reader.U32AtMost(RLIM_NLIMITS - 1, &resource) && reader.U64(&soft) && reader.U64(&hard)) {
      command.resource_limits_.push_back({static_cast<int>(resource), soft, hard});
    }
  }
  reader.U64(&timeout_ns);
  if (reader.U32(&targets) && targets != fds.size()) {
    return absl::DataLossError(absl::StrCat("malformed command: ", targets, " passed fds named, ",
                                            fds.size(), " given"));
  }
  for (uint32_t i = 0; reader.ok() && i < targets; ++i) {
    uint32_t target = 0;
    if (reader.U32AtMost((1u << 20) - 1, &target)) {
      command.passed_fds_.push_back({std::make_shared<UniqueFd>(std::move(fds[i])),
                                     static_cast<int>(target)});
    }
  }
  reader.Bool(&controlling_terminal);
  reader.Bool(&own_terminal);
  uint32_t size[4] = {};
  for (uint32_t& field : size) reader.U32AtMost(UINT16_MAX, &field);
  if (!reader.Done()) return absl::DataLossError("malformed command");
  command.controlling_terminal_ = controlling_terminal;
  if (own_terminal) {
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
    return absl::DataLossError(absl::StrCat("malformed command: kind ", kind));
  }
  command.kind_ = static_cast<Command::Kind>(kind);
  if (has_cwd) command.working_directory_ = cwd;
  if (timeout_ns != 0) command.timeout_ = absl::Nanoseconds(static_cast<int64_t>(timeout_ns));
  return command;
}

}  // namespace tokenbox
