"""Build macros: our own code compiles with -Wall -Wextra -Werror and OpenMP (oneDNN already links
libgomp, so our loops share its thread pool)."""

# C programs written against the public header alone: strict C11, every warning an error.
C_ABI_COPTS = [
    "-std=c11",
    "-pedantic",
    "-Wall",
    "-Wextra",
    "-Werror",
]

GISP_COPTS = [
    "-Wall",
    "-Wextra",
    "-Werror",
    "-fopenmp",
]

GISP_LINKOPTS = ["-fopenmp"]

def gisp_cc_library(name, copts = [], linkopts = [], **kwargs):
    native.cc_library(
        name = name,
        copts = GISP_COPTS + copts,
        linkopts = GISP_LINKOPTS + linkopts,
        **kwargs
    )

def gisp_cc_binary(name, copts = [], linkopts = [], **kwargs):
    native.cc_binary(
        name = name,
        copts = GISP_COPTS + copts,
        linkopts = GISP_LINKOPTS + linkopts,
        **kwargs
    )

def gisp_cc_test(name, copts = [], linkopts = [], deps = [], size = "small", **kwargs):
    native.cc_test(
        name = name,
        copts = GISP_COPTS + copts,
        linkopts = GISP_LINKOPTS + linkopts,
        deps = deps + ["//third_party:gtest_main"],
        size = size,
        **kwargs
    )
