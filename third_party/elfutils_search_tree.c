/* The two functions of elfutils' internal libeu that Debian's libelf.a needs from elf_begin()
 * and elf_end(), and that no Debian package ships as an archive. Both act on a search_tree
 * (lib/eu-search.h: a `void *root`, then a lock), which libelf keeps for raw chunks; only
 * elf_getdata_rawchunk() puts anything in it, and it needs eu_tsearch(), which is not here:
 * a binary that ever calls it fails to link instead of misbehaving. The lock after the root
 * is left alone, as its layout depends on how elfutils was configured. */
#define _GNU_SOURCE  /* tdestroy */
#include <search.h>
#include <stddef.h>

struct tokenbox_eu_search_tree {
  void *root;
};

void eu_search_tree_init(struct tokenbox_eu_search_tree *tree) { tree->root = NULL; }

void eu_search_tree_fini(struct tokenbox_eu_search_tree *tree, void (*free_node)(void *)) {
  if (tree->root != NULL) tdestroy(tree->root, free_node);
  tree->root = NULL;
}
