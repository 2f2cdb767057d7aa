#ifndef TOKENBOX_NS_UNIQUE_FD_H_
#define TOKENBOX_NS_UNIQUE_FD_H_

namespace tokenbox {

// Owns one file descriptor and closes it when destroyed. It can be moved but never copied, so
// exactly one owner exists for every fd tokenbox opens. Non-owning uses take a plain `int`.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(other.Release());
    return *this;
  }
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }

  // Gives up ownership without closing.
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

  // Closes the owned fd, if any, and takes ownership of `fd`. close() errors are ignored on
  // purpose: the fd is gone either way on Linux, and retrying could close someone else's fd.
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

}  // namespace tokenbox

#endif  // TOKENBOX_NS_UNIQUE_FD_H_
