"""Compiler settings and test macro shared by every tokenbox C++ target."""

TOKENBOX_COPTS = [
    "-std=c++17",
    "-Wall",
    "-Wextra",
    "-Werror",
    # GCC 12 warns about every member a C++ designated initializer leaves out, even in
    # {.fd = sock, .events = POLLIN}; zero-filling the rest is what those initializers are for.
    "-Wno-missing-field-initializers",
]

def tokenbox_cc_library(name, copts = [], **kwargs):
    native.cc_library(name = name, copts = TOKENBOX_COPTS + copts, **kwargs)

def tokenbox_cc_binary(name, copts = [], **kwargs):
    native.cc_binary(name = name, copts = TOKENBOX_COPTS + copts, **kwargs)

def tokenbox_cc_test(name, srcs, deps = [], tags = [], copts = [], **kwargs):
    """A doctest binary that runs against the real kernel.

    It runs outside Bazel's linux-sandbox: that sandbox is itself a user namespace, in which
    nothing holds CAP_SYS_ADMIN in the initial user namespace, so delegation cannot work there.
    """
    native.cc_test(
        name = name,
        srcs = srcs,
        copts = TOKENBOX_COPTS + copts,
        deps = deps + ["//tests:test_main"],
        tags = tags + ["no-sandbox"],
        size = kwargs.pop("size", "small"),
        **kwargs
    )
