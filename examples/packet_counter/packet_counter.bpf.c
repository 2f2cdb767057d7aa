// Counts every packet on the socket it is attached to, and lets each one through.
#include <linux/bpf.h>  // First: bpf_helpers.h uses its types.
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} packet_count SEC(".maps");

SEC("socket")
int count_packets(struct __sk_buff *skb) {
  __u32 key = 0;
  __u64 *count = bpf_map_lookup_elem(&packet_count, &key);
  // The verifier insists on the check even though key 0 of a one-entry array always exists.
  if (count) __sync_fetch_and_add(count, 1);
  // A socket filter keeps as many bytes as it returns: the whole packet.
  return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
