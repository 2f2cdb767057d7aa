#ifndef TOKENBOX_TOOLS_BENCH_SPAWN_H_
#define TOKENBOX_TOOLS_BENCH_SPAWN_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace tokenbox {

// How the bench starts what it measures.

// Runs `argv` to its end; whether it exited 0. With `out`, what it printed.
bool SpawnAndWait(const std::vector<std::string>& argv, std::string* out = nullptr);

// Runs `argv` to its end as `uid` (its own gid, no supplementary group), with `env`; whether it
// exited 0. A fork, where SpawnAndWait vforks: rows that compare with it use it on both sides.
bool RunAsAndWait(uid_t uid, const std::vector<std::string>& argv,
                  const std::vector<std::string>& env);

}  // namespace tokenbox

#endif  // TOKENBOX_TOOLS_BENCH_SPAWN_H_
