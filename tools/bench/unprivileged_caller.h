#ifndef TOKENBOX_TOOLS_BENCH_UNPRIVILEGED_CALLER_H_
#define TOKENBOX_TOOLS_BENCH_UNPRIVILEGED_CALLER_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace tokenbox {

// A user who is not root, made for the bench, granted `grant` (a policy line's syntax) by a
// tokenboxd of its own, with a copy of tokenbox it can run; the user, the daemon and their files
// are removed when it is destroyed.
class UnprivilegedCaller {
 public:
  // Makes the user and starts the daemon; nothing (after a line on stderr) when it cannot.
  static std::optional<UnprivilegedCaller> Start(const std::string& tokenbox,
                                                const std::string& tokenboxd,
                                                const std::string& grant);
  UnprivilegedCaller(UnprivilegedCaller&& other) noexcept { *this = std::move(other); }
  UnprivilegedCaller& operator=(UnprivilegedCaller&& other) noexcept;
  ~UnprivilegedCaller();

  uid_t uid() const { return uid_; }
  const std::string& tokenbox() const { return tokenbox_; }
  // What the user's tokenbox runs with: a short PATH, and the daemon's socket.
  std::vector<std::string> Environment() const;

 private:
  static constexpr char kUser[] = "tbx-bench";
  UnprivilegedCaller() = default;
  std::string dir_;
  bool made_user_ = false;
  uid_t uid_ = 0;
  std::string tokenbox_, socket_;
  pid_t daemon_ = -1;
  std::thread log_reader_;
};

}  // namespace tokenbox

#endif  // TOKENBOX_TOOLS_BENCH_UNPRIVILEGED_CALLER_H_
