#!/usr/bin/env python3
"""Generates bindings/python/gisp/_ffi.py, the ctypes declarations of c_api/gisp.h.

    /usr/bin/python3 bindings/python/tools/gen_ffi.py            # rewrites gisp/_ffi.py
    /usr/bin/python3 bindings/python/tools/gen_ffi.py --check    # exit 1 if it is stale
    /usr/bin/python3 bindings/python/tools/gen_ffi.py -o FILE    # writes FILE instead

The header is preprocessed by the C compiler (gcc, clang or cpp; $CC overrides) with
`-E -P -nostdinc -undef` against stub <stdbool.h>, <stddef.h> and <stdint.h>, so no system header
and no compiler extension (GISP_API, GISP_NODISCARD expand to nothing without __GNUC__) reaches
the parser, and parsed with pycparser (Debian: python3-pycparser; pip: pycparser). Fixed-width
and size types are mapped by their typedef name, so the stubs' underlying types do not matter.

The output depends only on the header: functions, enums, handles and callbacks appear in header
order. A header construct this script does not understand is an error, never a guess.
"""
import argparse
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
HEADER = ROOT / "c_api" / "gisp.h"
OUTPUT = HERE.parent / "gisp" / "_ffi.py"

# Typedef names from the stub standard headers -> ctypes.
SCALARS = {
    "void": None,
    "bool": "ctypes.c_bool",
    "_Bool": "ctypes.c_bool",
    "char": "ctypes.c_char",
    "int": "ctypes.c_int",
    "unsigned int": "ctypes.c_uint",
    "long": "ctypes.c_long",
    "unsigned long": "ctypes.c_ulong",
    "float": "ctypes.c_float",
    "double": "ctypes.c_double",
    "size_t": "ctypes.c_size_t",
    "int8_t": "ctypes.c_int8",
    "uint8_t": "ctypes.c_uint8",
    "int16_t": "ctypes.c_int16",
    "uint16_t": "ctypes.c_uint16",
    "int32_t": "ctypes.c_int32",
    "uint32_t": "ctypes.c_uint32",
    "int64_t": "ctypes.c_int64",
    "uint64_t": "ctypes.c_uint64",
}

STUBS = {
    "stdbool.h": "typedef _Bool bool;\n#define true 1\n#define false 0\n",
    "stddef.h": "typedef unsigned long size_t;\n#define NULL ((void*)0)\n",
    "stdint.h": "".join(f"typedef int {t};\n" for t in (
        "int8_t", "uint8_t", "int16_t", "uint16_t", "int32_t", "uint32_t", "int64_t",
        "uint64_t")),
}


class GenError(Exception):
    pass


def _compiler():
    for cand in ([os.environ["CC"]] if os.environ.get("CC") else []) + ["gcc", "clang", "cpp"]:
        path = shutil.which(cand.split()[0])
        if path:
            return cand.split()
    raise GenError("no C preprocessor found (install gcc, or set CC)")


def preprocess(header):
    """(preprocessed source, {macro: int}) of `header`."""
    cc = _compiler()
    with tempfile.TemporaryDirectory() as stub:
        for name, text in STUBS.items():
            pathlib.Path(stub, name).write_text(text)
        base = cc + (["-E"] if pathlib.Path(cc[0]).name != "cpp" else []) + [
            "-nostdinc", "-undef", "-U__GNUC__", "-U__clang__", "-D__attribute__(x)=",
            "-I", stub, "-x", "c", str(header)]
        src = subprocess.run(base[:1] + ["-P"] + base[1:], check=True, capture_output=True,
                             text=True).stdout
        macros = subprocess.run(base[:1] + ["-dM"] + base[1:], check=True, capture_output=True,
                                text=True).stdout
    values = {}
    for line in macros.splitlines():
        m = re.fullmatch(r"#define (GISP_[A-Z0-9_]+) (-?\d+)", line.strip())
        if m:
            values[m.group(1)] = int(m.group(2))
    return src, values


class Model:
    def __init__(self):
        self.macros = {}
        self.enums = []      # (typedef name, [(constant, value)])
        self.handles = []    # struct names
        self.callbacks = []  # (typedef name, restype, [argtypes], [argnames])
        self.functions = []  # (name, restype, [argtypes], [argnames])
        self.enum_names = set()
        self.callback_names = set()
        self.handle_names = set()


def parse(src, macros):
    try:
        from pycparser import c_ast, c_parser
    except ImportError as e:
        raise GenError("pycparser is not installed: `apt-get install python3-pycparser` and run "
                       "this with /usr/bin/python3, or `pip install pycparser`") from e
    ast = c_parser.CParser().parse(src, filename=str(HEADER))
    model = Model()
    model.macros = dict(sorted(macros.items(), key=lambda kv: kv[0]))
    # Keep the header's order of the macros it defines.
    order = re.findall(r"#define (GISP_[A-Z0-9_]+) -?\d+", HEADER.read_text())
    model.macros = {k: macros[k] for k in order if k in macros}

    def const_value(node, prev):
        if node is None:
            return prev + 1
        if isinstance(node, c_ast.Constant) and node.type == "int":
            return int(node.value.rstrip("uUlL"), 0)
        if isinstance(node, c_ast.UnaryOp) and node.op == "-":
            return -const_value(node.expr, 0)
        raise GenError(f"enum value not understood: {node}")

    def ctype(node, where):
        """ctypes expression (a string, or None for void) of a pycparser type node."""
        if isinstance(node, c_ast.TypeDecl):
            inner = node.type
            if isinstance(inner, c_ast.IdentifierType):
                name = " ".join(inner.names)
                if name in model.enum_names or name in model.callback_names:
                    return name
                if name in model.handle_names:
                    return name
                if name in SCALARS:
                    return SCALARS[name]
                raise GenError(f"{where}: unknown type {name!r}")
            if isinstance(inner, c_ast.Struct) and inner.name in model.handle_names:
                return inner.name
            if isinstance(inner, c_ast.Enum) and inner.name in model.enum_names:
                return inner.name
            raise GenError(f"{where}: type not understood: {inner}")
        if isinstance(node, c_ast.PtrDecl):
            pointee = node.type
            if isinstance(pointee, c_ast.TypeDecl) and isinstance(pointee.type,
                                                                  c_ast.IdentifierType):
                name = " ".join(pointee.type.names)
                if name == "void":
                    return "ctypes.c_void_p"
                if name == "char":
                    # const char*: a NUL-terminated input or static string (bytes in Python);
                    # char*: memory gisp allocates and the caller frees, kept as a pointer.
                    return ("ctypes.c_char_p" if "const" in pointee.quals
                            else "ctypes.POINTER(ctypes.c_char)")
            inner = ctype(pointee, where)
            if inner is None:
                raise GenError(f"{where}: pointer to void handled above")
            return f"ctypes.POINTER({inner})"
        raise GenError(f"{where}: declarator not understood: {type(node).__name__}")

    def params(func, where):
        types, names = [], []
        for i, p in enumerate(func.args.params if func.args else []):
            t = ctype(p.type, f"{where} parameter {i}")
            if t is None:  # (void)
                if len(func.args.params) != 1:
                    raise GenError(f"{where}: void parameter among others")
                return [], []
            if isinstance(p, c_ast.Typename) or not p.name:
                raise GenError(f"{where}: parameter {i} has no name")
            types.append(t)
            names.append(p.name)
        return types, names

    for node in ast.ext:
        if isinstance(node, c_ast.Typedef):
            if not node.name.startswith("gisp_"):
                if node.name not in SCALARS:
                    raise GenError(f"unexpected typedef {node.name}")
                continue
            t = node.type
            if isinstance(t, c_ast.TypeDecl) and isinstance(t.type, c_ast.Struct):
                if t.type.decls is not None:
                    raise GenError(f"{node.name}: only opaque structs are supported")
                if t.type.name != node.name:
                    raise GenError(f"{node.name}: typedef and struct tag differ")
                model.handles.append(node.name)
                model.handle_names.add(node.name)
            elif isinstance(t, c_ast.TypeDecl) and isinstance(t.type, c_ast.Enum):
                values, prev = [], -1
                for e in t.type.values.enumerators:
                    prev = const_value(e.value, prev)
                    values.append((e.name, prev))
                model.enums.append((node.name, values))
                model.enum_names.add(node.name)
                if t.type.name:
                    model.enum_names.add(t.type.name)
            elif isinstance(t, c_ast.PtrDecl) and isinstance(t.type, c_ast.FuncDecl):
                restype = ctype(t.type.type, node.name)
                types, names = params(t.type, node.name)
                model.callbacks.append((node.name, restype, types, names))
                model.callback_names.add(node.name)
            else:
                raise GenError(f"typedef {node.name} not understood")
        elif isinstance(node, c_ast.Decl) and isinstance(node.type, c_ast.FuncDecl):
            if not node.name.startswith("gisp_"):
                raise GenError(f"unexpected function {node.name}")
            restype = ctype(node.type.type, node.name)
            types, names = params(node.type, node.name)
            model.functions.append((node.name, restype, types, names))
        else:
            raise GenError(f"unexpected declaration at {node.coord}")
    if not model.functions:
        raise GenError("no functions found")
    return model


def render(model):
    out = [
        "# Generated from c_api/gisp.h by bindings/python/tools/gen_ffi.py. Do not edit; run",
        "#   /usr/bin/python3 bindings/python/tools/gen_ffi.py",
        "# after changing the header (bindings/python/tests/test_ffi.py checks it is current).",
        '"""ctypes declarations of the gisp C ABI: macros, enums, opaque handles, callbacks and',
        'FUNCTIONS (name -> (restype, argtypes, parameter names)) in header order."""',
        "import ctypes",
        "",
        "# Macros",
    ]
    for name, value in model.macros.items():
        out.append(f"{name} = {value}")
    out += ["", "# Enums (C enums are int-sized)"]
    for name, values in model.enums:
        out.append(f"{name} = ctypes.c_int")
        for const, value in values:
            out.append(f"{const} = {value}")
    out += ["", "ENUMS = {"]
    for name, values in model.enums:
        out.append(f"    {name!r}: {{")
        for const, value in values:
            out.append(f"        {const!r}: {value},")
        out.append("    },")
    out += ["}", "", "", "# Opaque handles: pass ctypes.POINTER(<handle>) objects; NULL is None."]
    for name in model.handles:
        out += ["", "", f"class {name}(ctypes.Structure):",
                f'    """Opaque struct {name}."""']
    out += ["", "", "HANDLES = (" + "".join(f"{n}, " for n in model.handles).rstrip(", ")
            + ("," if len(model.handles) == 1 else "") + ")", "", "# Callbacks"]
    for name, restype, types, _ in model.callbacks:
        out.append(f"{name} = ctypes.CFUNCTYPE({restype}, {', '.join(types)})")
    out += ["", "CALLBACKS = {"]
    for name, _, _, names in model.callbacks:
        out.append(f"    {name!r}: ({name}, {tuple(names)!r}),")
    out += ["}", "", "FUNCTIONS = {"]
    for name, restype, types, names in model.functions:
        out.append(f"    {name!r}: (")
        out.append(f"        {restype},")
        if types:
            out.append("        [")
            out += [f"            {t}," for t in types]
            out.append("        ],")
        else:
            out.append("        [],")
        out.append(f"        {tuple(names)!r},")
        out.append("    ),")
    out += ["}", ""]
    return "\n".join(out)


def generate(header=HEADER):
    src, macros = preprocess(header)
    return render(parse(src, macros))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", type=pathlib.Path, default=OUTPUT)
    ap.add_argument("--check", action="store_true", help="exit 1 if the output is stale")
    args = ap.parse_args(argv)
    try:
        text = generate()
    except (GenError, subprocess.CalledProcessError) as e:
        detail = getattr(e, "stderr", "") or ""
        print(f"gen_ffi: {e}\n{detail}", file=sys.stderr)
        return 2
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            print(f"gen_ffi: {args.output} is stale; run bindings/python/tools/gen_ffi.py",
                  file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
