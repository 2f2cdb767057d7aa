"""tokenbox_fuzz_target: a libFuzzer binary plus a replay test of its seed corpus."""

load("//tools:cc.bzl", "TOKENBOX_COPTS", "tokenbox_cc_test")

def tokenbox_fuzz_target(name, srcs, deps = [], corpus = []):
    """Declares `<name>` and `<name>_replay_test`.

    `<name>` is the libFuzzer binary. It links -fsanitize=fuzzer, which only clang has, so it is
    tagged manual (//... skips it) and is built only with --config=fuzz, in its own output base:
        bazel --output_base=/root/.cache/tokenbox-fuzz-output build --config=fuzz //tests/fuzz:<name>
    tools/dev fuzz does that and runs it.

    `<name>_replay_test` runs the same LLVMFuzzerTestOneInput over every file of `corpus` with the
    default toolchain, so the ordinary test suite checks each seed against the invariants.

    Args:
      name: the fuzz target, e.g. "id_map_fuzzer".
      srcs: the file defining LLVMFuzzerTestOneInput.
      deps: the code under test.
      corpus: the seed files, all in one directory (conventionally corpus/<name>/).
    """
    if not corpus:
        fail("tokenbox_fuzz_target %s: needs a seed corpus" % name)
    corpus_dirs = {f.rpartition("/")[0]: True for f in corpus}
    if len(corpus_dirs) != 1:
        fail("tokenbox_fuzz_target %s: seed files must share one directory, not %s" %
             (name, sorted(corpus_dirs.keys())))
    corpus_dir = corpus_dirs.keys()[0]
    deps = deps + ["//tests/fuzz:fuzz_check", "//third_party:absl"]

    native.cc_binary(
        name = name,
        srcs = srcs,
        copts = TOKENBOX_COPTS,
        # Only the fuzz config has libFuzzer's main; the sanitizers are on for the whole build
        # there (.bazelrc), so that every object the target links is instrumented alike.
        linkopts = select({
            "//tests/fuzz:fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        deps = deps,
        tags = ["manual"],
    )

    tokenbox_cc_test(
        name = name + "_replay_test",
        srcs = srcs + ["//tests/fuzz:replay_test.cc"],
        # The workspace root is a test's working directory, so a package-relative path to the
        # seed files is the path to read them from.
        local_defines = ['TOKENBOX_FUZZ_CORPUS=\\"%s\\"' % "/".join(
            [p for p in [native.package_name(), corpus_dir] if p],
        )],
        data = corpus,
        deps = deps + ["//tests:test_support"],
    )
