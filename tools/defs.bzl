"""tokenbox_test: run a test binary inside a delegated BPF sandbox under `bazel test`.

A downstream workspace uses it through a local_repository:

    # WORKSPACE
    local_repository(name = "tokenbox", path = "/path/to/tokenbox")
    # (plus tokenbox's offline stand-ins for rules_cc, rules_java and remote_coverage_tools, see
    # examples/downstream/WORKSPACE)

    # BUILD.bazel
    load("@tokenbox//tools:defs.bzl", "tokenbox_test")

    tokenbox_test(
        name = "maps_test",
        srcs = ["maps_test.cc"],
        deps = ["@tokenbox//sandbox:inside"],
        delegate_cmds = "map_create:prog_load:btf_load",
        delegate_maps = "array:hash",
        delegate_progs = "socket_filter",
        delegate_attachs = "any",
    )

The test runs as an unprivileged host user holding only CAP_BPF (plus keep_caps), with the
token in TOKENBOX_TOKEN_FD and the delegated bpffs at /sys/fs/bpf, so unmodified libbpf code
finds the token by itself. Its output and exit code pass through; a sandbox set-up failure fails
the test with tokenbox's message. `bazel test` must run as root, and the test runs outside
Bazel's own sandbox (tag no-sandbox): configuring a delegated bpffs needs CAP_SYS_ADMIN in the
initial user namespace, which nothing inside Bazel's linux-sandbox has.
"""

def tokenbox_test(
        name,
        binary = None,
        srcs = None,
        deps = [],
        copts = [],
        data = [],
        args = [],
        delegate_cmds = "",
        delegate_maps = "",
        delegate_progs = "",
        delegate_attachs = "",
        keep_caps = "",
        bpffs = None,
        unshare_net = False,
        unshare_pid = False,
        sandbox_timeout = None,
        tags = [],
        size = "small",
        **kwargs):
    """A test that runs `binary` (or a cc_binary made from `srcs` and `deps`) in a sandbox.

    Args:
      name: the test's name.
      binary: a test executable to run; or give srcs (and deps) instead.
      srcs, deps, copts: sources of a C++ test binary built for this test.
      data: runtime files the test reads (copied into the sandbox's view with the runfiles).
      args: arguments for the test binary.
      delegate_cmds, delegate_maps, delegate_progs, delegate_attachs: the delegation policy, in
        the kernel's syntax (names, 0x masks, or "any").
      keep_caps: capabilities kept besides CAP_BPF, e.g. "net_admin".
      bpffs: where the delegated bpffs is mounted (default /sys/fs/bpf).
      unshare_net, unshare_pid: restate that the sandbox has network and pid namespaces of its
        own, which it has by default (tokenbox run --help lists every default).
      sandbox_timeout: tokenbox's own --timeout, e.g. "60s".
      tags, size: as for any test; "no-sandbox" is added.
      **kwargs: passed to the underlying sh_test.
    """
    if (binary == None) == (srcs == None):
        fail("tokenbox_test %s: give exactly one of binary or srcs" % name)
    if binary == None:
        binary = name + "_bin"
        native.cc_binary(
            name = binary,
            srcs = srcs,
            deps = deps,
            copts = ["-std=c++17"] + copts,  # tokenbox's headers need it.
            testonly = True,
            tags = ["manual"],
        )
        binary = ":" + binary

    # Each flag is one of `tokenbox run`'s (tools/sandbox_flags_test.cc checks them against its
    # option table).
    options = []
    for flag, value in [
        ("--delegate-cmds", delegate_cmds),
        ("--delegate-maps", delegate_maps),
        ("--delegate-progs", delegate_progs),
        ("--delegate-attachs", delegate_attachs),
        ("--keep-caps", keep_caps),
        ("--bpffs", bpffs),
        ("--timeout", sandbox_timeout),
    ]:
        if value:
            options.append("%s=%s" % (flag, value))
    if unshare_net:
        options.append("--unshare-net")
    if unshare_pid:
        options.append("--unshare-pid")

    native.sh_test(
        name = name,
        srcs = [Label("//tools:tokenbox_test_runner.sh")],
        args = [
            "$(rootpath %s)" % Label("//tools:tokenbox"),
            "$(rootpath %s)" % binary,
        ] + options + ["--"] + args,
        data = [Label("//tools:tokenbox"), binary] + data,
        tags = tags + ["no-sandbox"],
        size = size,
        **kwargs
    )
