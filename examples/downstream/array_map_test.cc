// Inside the sandbox: an array map is delegated, a hash map is not.
#include <bpf/bpf.h>
#include <cerrno>
#include <cstdio>

#include "sandbox/inside.h"

int main() {
  auto sandbox = tokenbox::CurrentSandbox();
  if (!sandbox.ok()) {
    std::fprintf(stderr, "%s\n", std::string(sandbox.status().message()).c_str());
    return 1;
  }
  LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_TOKEN_FD,
              .token_fd = static_cast<__u32>(sandbox->token_fd));
  int array = bpf_map_create(BPF_MAP_TYPE_ARRAY, "downstream", 4, 8, 1, &opts);
  int hash = bpf_map_create(BPF_MAP_TYPE_HASH, "downstream", 4, 8, 1, &opts);
  int hash_errno = errno;
  std::printf("array map: %s; hash map: %s\n", array >= 0 ? "created" : "FAILED",
              hash < 0 && hash_errno == EPERM ? "refused (EPERM)" : "NOT REFUSED");
  std::printf("%d passed, %d failed\n", (array >= 0) + (hash < 0), (array < 0) + (hash >= 0));
  return array >= 0 && hash < 0 && hash_errno == EPERM ? 0 : 1;
}
