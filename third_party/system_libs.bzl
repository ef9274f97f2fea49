"""Repository rules that wrap Debian's Abseil and protobuf so the build never downloads anything."""

_ABSL_MODULES = [
    "absl_status",
    "absl_statusor",
    "absl_str_format",
    "absl_strings",
    "absl_flags",
    "absl_flags_parse",
    "absl_flags_usage",
    "absl_synchronization",
    "absl_time",
    "absl_hash",
    "absl_raw_hash_set",
    "absl_random_random",
]

def _system_absl_impl(ctx):
    res = ctx.execute(["pkg-config", "--libs"] + _ABSL_MODULES)
    if res.return_code != 0:
        fail("pkg-config could not find Abseil (apt-get install libabsl-dev): " + res.stderr)
    flags = [f for f in res.stdout.strip().split(" ") if f]
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("BUILD", """
cc_library(
    name = "absl",
    linkopts = {flags},
    visibility = ["//visibility:public"],
)
""".format(flags = repr(flags)))

system_absl = repository_rule(
    implementation = _system_absl_impl,
    local = True,
)

_WKT = [
    "any",
    "api",
    "duration",
    "empty",
    "field_mask",
    "source_context",
    "struct",
    "timestamp",
    "type",
    "wrappers",
    "descriptor",
]

# The protobuf runtime libgisp.so links statically: Debian's own source of the libprotobuf-dev
# release, built position-independent by tools/deps/build_protobuf_pic.sh
# (run by tools/setup.sh). Debian's libprotobuf.a cannot go into a shared object, and linking
# libprotobuf.so.32 would share one unversioned protobuf with whatever else the host process loads.
_PROTOBUF_PIC = "protobuf-3.21.12-3+deb12u1-pic"

def _system_protobuf_impl(ctx):
    if not ctx.path("/usr/bin/protoc").exists:
        fail("/usr/bin/protoc is missing (apt-get install protobuf-compiler libprotobuf-dev)")
    deps = ctx.os.environ.get("GISP_DEPS_DIR", ctx.os.environ.get("HOME", "") + "/.cache/gisp-deps")
    pic = ctx.path("%s/%s" % (deps, _PROTOBUF_PIC))
    if not pic.get_child(".complete").exists:
        fail("%s is missing: run tools/setup.sh (it builds the position-independent protobuf " % pic +
             "runtime with tools/deps/build_protobuf_pic.sh; set GISP_DEPS_DIR to use another place)")
    ctx.symlink(pic.get_child("lib").get_child("libprotobuf_pic.a"), "libprotobuf_pic.a")
    ctx.symlink(pic.get_child("include"), "include")
    ctx.symlink(pic.get_child("LICENSE"), "LICENSE")
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("protoc.sh", "#!/bin/sh\nexec /usr/bin/protoc \"$@\"\n", executable = True)
    wkt_rules = []
    for name in _WKT:
        ctx.symlink("/usr/include/google/protobuf/%s.proto" % name, "google/protobuf/%s.proto" % name)
        wkt_rules.append("""
proto_library(
    name = "{name}_proto",
    srcs = ["google/protobuf/{name}.proto"],
    visibility = ["//visibility:public"],
)
""".format(name = name))
    ctx.file("BUILD", """
sh_binary(
    name = "protoc",
    srcs = ["protoc.sh"],
    visibility = ["//visibility:public"],
)

exports_files(["LICENSE"])

cc_library(
    name = "protobuf",
    srcs = ["libprotobuf_pic.a"],
    hdrs = glob(["include/google/**/*.h", "include/google/**/*.inc"]),
    includes = ["include"],
    linkopts = ["-lpthread"],
    linkstatic = True,
    visibility = ["//visibility:public"],
)

proto_lang_toolchain(
    name = "cc_toolchain",
    blacklisted_protos = [{wkt}],
    command_line = "--cpp_out=$(OUT)",
    runtime = ":protobuf",
    visibility = ["//visibility:public"],
)
""".format(wkt = ", ".join(['":%s_proto"' % n for n in _WKT])) + "".join(wkt_rules))

system_protobuf = repository_rule(
    implementation = _system_protobuf_impl,
    environ = ["GISP_DEPS_DIR", "HOME"],
    local = True,
)

# MPI for the prune CLI and tools/mpi (never libgisp.so: hosts bring their own MPI through
# c_api/gisp_mpi.h). Flags as the MPI installation reports them: pkg-config's ompi-c module
# (Debian's libopenmpi-dev), else the compiler wrapper's --showme (any Open MPI), so a cluster's
# own MPI build works when its pkg-config file or mpicc comes first on PATH.
def _flags(ctx, pkg_config_args, showme_args):
    res = ctx.execute(["pkg-config"] + pkg_config_args + ["ompi-c"])
    if res.return_code == 0:
        return [f for f in res.stdout.strip().split(" ") if f]
    res = ctx.execute(["mpicc"] + showme_args)
    if res.return_code == 0:
        return [f for f in res.stdout.strip().split(" ") if f]
    fail("MPI not found: neither `pkg-config ompi-c` nor `mpicc --showme` works " +
         "(apt-get install libopenmpi-dev openmpi-bin, or run tools/setup.sh)")

def _system_mpi_impl(ctx):
    include_dirs = [f[2:] for f in _flags(ctx, ["--cflags-only-I"], ["--showme:compile"])
                    if f.startswith("-I")]
    link = [f for f in _flags(ctx, ["--libs"], ["--showme:link"])
            if f.startswith("-l") or f.startswith("-L") or f.startswith("-Wl,")]
    includes = []
    for i, d in enumerate(include_dirs):
        ctx.symlink(d, "include_%d" % i)
        includes.append("include_%d" % i)
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("BUILD", """
cc_library(
    name = "mpi",
    hdrs = glob(["include_*/**/*.h"]),
    includes = {includes},
    linkopts = {link},
    visibility = ["//visibility:public"],
)
""".format(includes = repr(includes), link = repr(link)))

system_mpi = repository_rule(
    implementation = _system_mpi_impl,
    environ = ["PATH", "PKG_CONFIG_PATH"],
    local = True,
)
