#include "tests/bpf_ops.h"

#include <bpf/bpf.h>
#include <linux/btf.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "ns/errno_status.h"

namespace tokenbox::testing {
namespace {

std::string TokenNote(int token_fd) {
  return token_fd >= 0 ? absl::StrCat(" with token ", token_fd) : " without token";
}

}  // namespace

absl::StatusOr<UniqueFd> CreateMap(bpf_map_type type, int token_fd) {
  LIBBPF_OPTS(bpf_map_create_opts, opts);
  if (token_fd >= 0) {
    opts.map_flags = BPF_F_TOKEN_FD;
    opts.token_fd = token_fd;
  }
  int fd = bpf_map_create(type, "tokenbox_test", 4, 8, 1, &opts);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("BPF_MAP_CREATE(type ", type, ")", TokenNote(token_fd)));
  return UniqueFd(fd);
}

absl::StatusOr<UniqueFd> LoadTrivialProgram(bpf_prog_type type, bpf_attach_type attach,
                                            int token_fd, int ret) {
  const bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, ret},  // r0 = ret
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},                       // exit
  };
  LIBBPF_OPTS(bpf_prog_load_opts, opts);
  opts.expected_attach_type = attach;
  if (token_fd >= 0) {
    opts.prog_flags = BPF_F_TOKEN_FD;
    opts.token_fd = token_fd;
  }
  int fd = bpf_prog_load(type, "tokenbox_test", "GPL", insns, 2, &opts);
  if (fd < 0) {
    return ErrnoStatus(errno, absl::StrCat("BPF_PROG_LOAD(type ", type, ", attach ", attach, ")",
                                           TokenNote(token_fd)));
  }
  return UniqueFd(fd);
}

absl::StatusOr<UniqueFd> LoadTinyBtf(int token_fd) {
  struct {
    btf_header header;
    btf_type int_type;
    uint32_t int_encoding;
    char strings[5];
  } __attribute__((packed)) blob = {};
  blob.header.magic = BTF_MAGIC;
  blob.header.version = BTF_VERSION;
  blob.header.hdr_len = sizeof(btf_header);
  blob.header.type_off = 0;
  blob.header.type_len = sizeof(btf_type) + sizeof(uint32_t);
  blob.header.str_off = blob.header.type_len;
  blob.header.str_len = sizeof(blob.strings);
  blob.int_type.name_off = 1;
  blob.int_type.info = BTF_KIND_INT << 24;
  blob.int_type.size = 4;
  blob.int_encoding = (BTF_INT_SIGNED << 24) | 32;
  memcpy(blob.strings, "\0int", 5);
  LIBBPF_OPTS(bpf_btf_load_opts, opts);
  if (token_fd >= 0) {
    opts.btf_flags = BPF_F_TOKEN_FD;
    opts.token_fd = token_fd;
  }
  int fd = bpf_btf_load(&blob, sizeof(blob), &opts);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("BPF_BTF_LOAD", TokenNote(token_fd)));
  return UniqueFd(fd);
}

}  // namespace tokenbox::testing
