#ifndef TOKENBOX_NS_START_THREAD_H_
#define TOKENBOX_NS_START_THREAD_H_

#include <system_error>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tokenbox {

// The status of a thread the kernel refused to make (`error`: EAGAIN when out of threads,
// memory or pids).
absl::Status ThreadRefused(int error);

// std::thread(body), with the errno as a status where std::thread would throw: a root service
// that runs out of threads refuses one request instead of ending. On failure `body` (and what
// it holds) is destroyed.
template <typename Body>
absl::StatusOr<std::thread> StartThread(Body&& body) {
  try {
    return std::thread(std::forward<Body>(body));
  } catch (const std::system_error& error) {
    return ThreadRefused(error.code().value());
  }
}

}  // namespace tokenbox

#endif  // TOKENBOX_NS_START_THREAD_H_
