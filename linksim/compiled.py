"""Numba kernels that load without numba: compiled ahead of time where this machine has them, JIT-compiled where not.

Importing numba and setting up its compiler costs a process about 0.35 s and 120 MB before the first kernel runs,
even when every kernel comes from numba's on-disk cache. For a command that runs for a second (`linksim channel`
on a 48 M-sample file) that is a third of the run. So the channel's kernels are declared with `kernel(...)` instead
of `numba.njit(...)`:

    @kernel(nogil=True)                  # the options are numba.njit's (cache=True is implied)
    def _fill(key, n0, out): ...
    @kernel(inline="always")             # a helper other kernels call; never called from Python
    def _mix(z): ...

While numba is not loaded in the process, a call looks up the argument types in the machine's compiled library (a
shared object built by `linksim kernels`, which scripts/setup.sh runs) and calls the compiled code through ctypes,
which releases the GIL as nogil=True does; numba is not imported. A call goes to numba's JIT instead when the
library does not hold its argument types (another dtype, an array that is not C-contiguous and writable), when
there is no library built from these sources for this CPU and numba, with LINKSIM_KERNELS=jit, and once numba is
loaded in the process anyway (by the DVB-S2 receiver, or by such a call): numba's dispatch then costs 0.3 to 1.4 us
a call against ctypes' 1.6 to 6.8 us, which a loopback run, calling the channel on GNU Radio's small chunks, would
feel. Both compile the same Python source and give the same bytes (the library is compiled by numba from it for
this CPU with the JIT's code-generator settings; tests/test_compiled.py compares them).

The library: `build(train)` runs `train()` (linksim.cli.kernels: `linksim channel` over a short file with the
options users pass), so that numba records the argument types of every kernel call, then compiles for each
(kernel, types) pair a C entry point `int32 name(void *ret, args...)` (an array passed as the array object, whose
data pointer and dimensions the entry reads; a boolean as an int64) that calls the kernel and returns 1 if it
raised; ctypes calls that, and a kernel error raises KernelError naming the kernel (LINKSIM_KERNELS=jit shows
numba's own exception). Kernels that allocate arrays are left to the JIT (the library has no numba runtime). The
library is linked with the system C compiler ($CC or cc) and lives in linksim/_compiled/ with an index.json of its
entries; it is used only while the sources of the packages it was built from, the numba version and the CPU flags
are those it was built for (_source_key), and numpy's array objects have the layout the entries read.

    kernel(**njit_options) -> decorator making a Kernel; Kernel.compiled(*args) calls the library's entry alone
    status() -> "compiled (N entries)" | "jit: <why>"   (which way kernel calls go in this process)
    is_current() -> whether this machine's library matches the sources, numba and the CPU (LINKSIM_KERNELS aside)
    build(train, verbose) -> the number of entries compiled into the library (LIB_DIR) after train()
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .errors import DeviceError

ENV = "LINKSIM_KERNELS"  # "jit": never use the compiled library
LIB_DIR = Path(__file__).resolve().parent / "_compiled"
INDEX = LIB_DIR / "index.json"
LIB_NAME = "kernels.so"
_REGISTRY: dict[str, Kernel] = {}  # "module:name" -> Kernel
_LOCK = threading.Lock()


class KernelError(RuntimeError):
    """A compiled kernel raised (an index out of range, a division by zero, ...)."""


# ------------------------------------------------------------------------------------------------- the kernels


class Kernel:
    """A numba kernel whose calls go to the compiled library when it holds their argument types, else to numba."""

    def __init__(self, fn, options: dict) -> None:  # noqa: ANN001 - any Python function
        self.py_func = fn
        self.options = options if "inline" in options else {"cache": True, **options}
        self.targetoptions = self.options  # what numba's inliner reads off a global (inline="always" helpers)
        self.name = f"{fn.__module__}:{fn.__qualname__}"
        self.__name__ = fn.__name__
        self.__qualname__ = fn.__qualname__
        self.__module__ = fn.__module__
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn
        self._jit = None
        self._entries: dict | None = None  # type key -> compiled entry ({} when none)
        with _LOCK:
            _REGISTRY[self.name] = self

    def __repr__(self) -> str:
        return f"<kernel {self.name}>"

    def __call__(self, *args):  # noqa: ANN002, ANN204 - a kernel's own arguments
        if self._jit is None and "numba" not in sys.modules:
            entry = self._entry(args)
            if entry is not None:
                return entry(args)
        return self.jit(*args)

    def _entry(self, args: tuple):  # noqa: ANN202 - the compiled entry for these argument types, or None
        entries = self._entries
        if entries is None:
            entries = self._entries = _library().entries(self.name)
        return entries.get(tuple(map(_type_code, args))) if entries else None

    def compiled(self, *args):  # noqa: ANN002, ANN201 - a kernel's own arguments and result
        """Call the compiled library's entry (whether or not numba is loaded); LookupError if it has none for
        these argument types."""
        entry = self._entry(args)
        if entry is None:
            raise LookupError(f"{self.name}: the compiled library has no entry for these argument types "
                              f"({', '.join(map(_type_code, args))}; {status()})")
        return entry(args)

    @property
    def jit(self):  # noqa: ANN201 - a numba dispatcher
        """numba's dispatcher for this kernel (imports numba on first use)."""
        if self._jit is None:
            nb = _numba()
            with _LOCK:
                if self._jit is None:
                    self._jit = nb.njit(**self.options)(self.py_func)
        return self._jit


def kernel(**options):  # noqa: ANN003, ANN201 - numba.njit's options
    """Decorator: a Kernel with numba.njit's options (cache=True unless given)."""
    return lambda fn: Kernel(fn, options)


_NUMBA = None


def _numba():  # noqa: ANN202 - the numba module
    """Import numba and teach it that a Kernel in a kernel's globals is that kernel's dispatcher."""
    global _NUMBA
    if _NUMBA is None:
        with _LOCK:
            if _NUMBA is None:
                import numba
                from numba.core.typing.typeof import typeof_impl

                @typeof_impl.register(Kernel)
                def _typeof_kernel(val, c):  # noqa: ANN001, ANN202 - numba's typeof hook
                    return typeof_impl(val.jit, c)

                _NUMBA = numba
    return _NUMBA


# ------------------------------------------------------------------------------------- argument types and ABI


_SCALAR_CODES: dict[type, str] = {float: "f8", bool: "b"}  # grows with the NumPy scalar types seen
_ARRAY_CODES: dict[tuple, str] = {}  # (dtype, ndim) -> code


def _type_code(v: object) -> str:
    """A short code of an argument's numba type: 'a<f8:1' for a C-contiguous, aligned, writable 1-D float64 array
    ('A' in place of 'a' otherwise: the library holds none), 'b' bool, 'i8'/'u8' Python int, 'f8' Python float,
    the dtype's code for NumPy scalars. Cached per type: a call computes one per argument."""
    t = type(v)
    c = _SCALAR_CODES.get(t)
    if c is not None:
        return c
    if t is int:
        return "i8" if -(1 << 63) <= v < (1 << 63) else "u8"
    if isinstance(v, np.ndarray):
        key = (v.dtype, v.ndim)
        c = _ARRAY_CODES.get(key)
        if c is None:
            c = _ARRAY_CODES[key] = f"{'a' if v.dtype.isnative else 'A'}{v.dtype.str}:{v.ndim}"
        return c if v.flags.carray else "A" + c[1:]
    if isinstance(v, np.generic):
        c = _SCALAR_CODES[t] = "b" if v.dtype.kind == "b" else v.dtype.str[1:]
        return c
    return t.__name__


_SCALARS = {"f8": ctypes.c_double, "f4": ctypes.c_float, "i8": ctypes.c_int64, "u8": ctypes.c_uint64,
            "i4": ctypes.c_int32, "u4": ctypes.c_uint32, "b": ctypes.c_int64}
_RETURNS = {"none": None, "f8": ctypes.c_double, "f4": ctypes.c_float, "i8": ctypes.c_int64, "u8": ctypes.c_uint64,
            "i4": ctypes.c_int32, "u4": ctypes.c_uint32}


def _entry(fn, name: str, codes: tuple[str, ...], ret: str):  # noqa: ANN001, ANN202 - a ctypes function
    """A callable(args) that calls compiled entry `fn` (C ABI: int32 fn(void *ret, args...), an array passed as the
    array object) for argument codes; the codes were checked by the caller (_type_code)."""
    argtypes = [ctypes.c_void_p]
    plan = []
    for c in codes:
        if c[0] == "a":
            argtypes.append(ctypes.py_object)  # the array object: the entry reads its data and dimensions
            plan.append(1)
        else:
            argtypes.append(_SCALARS[c])
            plan.append(2 if c == "b" else 1)
    fn.argtypes = argtypes
    fn.restype = ctypes.c_int32
    rtype = _RETURNS[ret]

    def call(args):  # noqa: ANN001, ANN202
        out = rtype() if rtype is not None else None
        cargs = [ctypes.addressof(out) if out is not None else None]
        for how, v in zip(plan, args, strict=True):
            cargs.append(v if how == 1 else (1 if v else 0))
        if fn(*cargs):
            raise KernelError(f"compiled kernel {name} raised (run with {ENV}=jit to see numba's exception)")
        return out.value if out is not None else None

    return call


# --------------------------------------------------------------------------------------------- the library


def _cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return " ".join(sorted(line.split(":", 1)[1].split()))
    except OSError:
        pass
    return ""


def _source_key(modules: list[str], numba_version: str) -> str:
    """The library's key: every source file in the packages of the kernels' modules (a kernel may read a constant
    from a neighbour) and this file, the numba version and the CPU's flags."""
    h = hashlib.sha256()
    files = {Path(__file__).resolve()}
    for m in modules:
        spec = importlib.util.find_spec(m)
        if spec is None or spec.origin is None:
            return ""
        files.update(Path(spec.origin).resolve().parent.glob("*.py"))
    for f in sorted(files):
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    h.update(numba_version.encode() + b"\0" + _cpu_flags().encode())
    return h.hexdigest()


def _numba_version() -> str:
    """numba's version file (read, not imported: importing numba is what the library saves)."""
    spec = importlib.util.find_spec("numba")
    if spec is None or spec.origin is None:
        return ""
    try:
        return hashlib.sha256((Path(spec.origin).parent / "_version.py").read_bytes()).hexdigest()
    except OSError:
        return ""


class _Library:
    """The loaded library's entries by kernel, or none (why: `reason`)."""

    def __init__(self, ignore_env: bool = False) -> None:
        self.by_kernel: dict[str, dict] = {}
        self.reason = ""
        self.count = 0
        if os.environ.get(ENV, "").lower() == "jit" and not ignore_env:
            self.reason = f"{ENV}=jit"
            return
        try:
            index = json.loads(INDEX.read_text())
        except FileNotFoundError:
            self.reason = "no compiled library (`linksim kernels` builds it)"
            return
        except (OSError, ValueError) as e:
            self.reason = f"unreadable {INDEX}: {e}"
            return
        try:
            if index.get("key") != _source_key(list(index.get("modules", [])), _numba_version()):
                self.reason = "the compiled library was built from other sources (`linksim kernels` rebuilds it)"
                return
            if not _array_layout_ok():
                self.reason = "numpy's array layout is not the one the compiled entries read"
                return
            lib = ctypes.CDLL(str(LIB_DIR / index["library"]))
            by_kernel: dict[str, dict] = {}
            for e in index["entries"]:
                codes = tuple(e["args"])
                by_kernel.setdefault(e["kernel"], {})[codes] = _entry(lib[e["symbol"]], e["kernel"], codes, e["ret"])
        except OSError as e:
            self.reason = f"cannot load the compiled library: {e}"
            return
        except (AttributeError, KeyError, TypeError, ValueError) as e:  # an index not written by build()
            self.reason = f"unreadable {INDEX}: {type(e).__name__}: {e}"
            return
        self.by_kernel = by_kernel
        self.count = len(index["entries"])

    def entries(self, name: str) -> dict:
        return self.by_kernel.get(name, {})


_LIB: _Library | None = None


def _library() -> _Library:
    global _LIB
    if _LIB is None:
        with _LOCK:
            if _LIB is None:
                _LIB = _Library()
    return _LIB


def is_current() -> bool:
    """The library exists and matches the sources, numba and this CPU (whatever LINKSIM_KERNELS says)."""
    return _Library(ignore_env=True).count > 0


def status() -> str:
    """How kernel calls go in this process: 'compiled (N entries)' or 'jit: <why>'."""
    lib = _library()
    return f"compiled ({lib.count} entries)" if lib.count else f"jit: {lib.reason}"


# ------------------------------------------------------------------------------------------------ building

def _code_of(t) -> str | None:  # noqa: ANN001 - a numba type
    from numba.core import types as nt

    if isinstance(t, nt.Array):
        if t.layout != "C" or not t.mutable or not t.aligned:
            return None
        import numpy as np

        return f"a{np.dtype(str(t.dtype)).str}:{t.ndim}" if str(t.dtype) in np.sctypeDict else None
    if isinstance(t, nt.Boolean):
        return "b"
    if isinstance(t, nt.Integer):
        return f"{'i' if t.signed else 'u'}{t.bitwidth // 8}"
    if isinstance(t, nt.Float):
        return f"f{t.bitwidth // 8}"
    return None


def _wrapper_source(codes: tuple[str, ...]) -> str:
    """Python source of a function that takes the C entry's arguments and calls kernel `K`."""
    params, args = [], []
    for i, c in enumerate(codes):
        if c[0] == "a":
            ndim = int(c.split(":")[1])
            dims = [f"n{i}_{d}" for d in range(ndim)]
            params += [f"p{i}", *dims]
            args.append(f"carray(p{i}, ({', '.join(dims)},))")
        elif c == "b":
            params.append(f"v{i}")
            args.append(f"v{i} != 0")
        else:
            params.append(f"v{i}")
            args.append(f"v{i}")
    return f"def _w({', '.join(params)}):\n    return K({', '.join(args)})\n"


def build(train: Callable[[], None], verbose: bool = False) -> int:
    """Compile every (kernel, argument types) pair that train() made numba compile into LIB_DIR (the library and
    index.json, each replaced whole); returns the number of entries."""
    import shutil
    import subprocess
    import tempfile

    import numpy as np
    from llvmlite import ir
    from numba import carray
    from numba.core import codegen, compiler, registry
    from numba.core import types as nt
    from numba.core.compiler_lock import global_compiler_lock

    global _LIB
    nb = _numba()
    # $CC and $NM first (a conda environment's compilers set them), then cc (or gcc) and nm
    cc = shutil.which(os.environ.get("CC") or "cc") or shutil.which("gcc")
    nm = shutil.which(os.environ.get("NM") or "nm")
    if cc is None or nm is None:
        raise DeviceError("linksim kernels: needs a C compiler (cc) and nm to link the library: install gcc")
    with tempfile.TemporaryDirectory(prefix="linksim-kernels-") as tmp:
        work = Path(tmp)
        saved = os.environ.get(ENV)
        os.environ[ENV] = "jit"  # every call through numba's dispatchers, which record the argument types
        _LIB = None
        try:
            train()
        finally:
            if saved is None:
                os.environ.pop(ENV, None)
            else:
                os.environ[ENV] = saved

        class HostCodegen(codegen.AOTCPUCodegen):
            """Object code for this CPU with the JIT's features (the JIT's code, in a shared object)."""

            def _customize_tm_features(self):  # noqa: ANN202
                return self._get_host_cpu_features()

        target = registry.cpu_target.target_context.subtarget(
            _internal_codegen=HostCodegen("linksim_kernels", cpu_name="host"), aot_mode=True)
        typing = registry.cpu_target.typing_context
        flags = compiler.Flags()
        flags.no_cpython_wrapper = True
        flags.no_cfunc_wrapper = True
        flags.no_compile = True  # no executable: the object code goes to the library
        flags.nrt = True
        entries, objects, modules = [], [], set()
        for name, k in sorted(_REGISTRY.items()):
            if k._jit is None or k.options.get("inline") == "always":
                continue
            modules.add(k.__module__)
            for sig in k._jit.signatures:
                codes = tuple(_code_of(t) for t in sig)
                ret = k._jit.overloads[sig].signature.return_type
                rcode = "none" if ret == nt.none else _code_of(ret)
                if None in codes or rcode not in _RETURNS:
                    if verbose:
                        print(f"  jit only: {name}{sig}", file=sys.stderr)
                    continue
                ns = {"K": k.jit, "carray": carray}
                exec(_wrapper_source(codes), ns)  # noqa: S102 - source generated above from type codes
                argtys = []
                for c in codes:
                    if c[0] == "a":
                        dt = nb.from_dtype(np.dtype(c[1:].split(":")[0]))
                        argtys += [nt.CPointer(dt)] + [nt.intp] * int(c.split(":")[1])
                    else:
                        argtys.append(nt.int64 if c == "b" else nb.from_dtype(np.dtype(c)))
                symbol = f"linksim_k{len(entries)}"
                with global_compiler_lock:
                    cres = compiler.compile_extra(typing, target, ns["_w"], tuple(argtys), ret, flags, {})
                    _add_c_entry(target, cres, symbol, codes, ir)
                    obj = cres.library.emit_native_object()
                undefined = _undefined_symbols(obj, work, nm)
                if any(s.startswith("NRT_MemInfo_alloc") or s.startswith("NRT_Allocate") for s in undefined):
                    if verbose:
                        print(f"  jit only (allocates): {name}{sig}", file=sys.stderr)
                    continue
                path = work / f"{symbol}.o"
                path.write_bytes(obj)
                objects.append(str(path))
                entries.append({"kernel": name, "args": list(codes), "ret": rcode, "symbol": symbol})
                if verbose:
                    print(f"  compiled: {name}{sig}", file=sys.stderr)
        stubs = work / "stubs.c"
        stubs.write_text(_STUBS_C)
        LIB_DIR.mkdir(exist_ok=True)
        lib_path = LIB_DIR / LIB_NAME
        tmp_lib = LIB_DIR / (LIB_NAME + ".tmp")
        cmd = [cc, "-shared", "-O2", "-fPIC", "-o", str(tmp_lib), str(stubs), *objects, "-lm",
               "-Wl,--allow-multiple-definition"]
        subprocess.run(cmd, check=True, capture_output=not verbose)
        os.replace(tmp_lib, lib_path)
        index = {"key": _source_key(sorted(modules), _numba_version()), "modules": sorted(modules),
                 "library": LIB_NAME, "numba": nb.__version__, "entries": entries}
        tmp_index = INDEX.with_suffix(".tmp")
        tmp_index.write_text(json.dumps(index, indent=1) + "\n")
        os.replace(tmp_index, INDEX)
    _LIB = None
    for k in _REGISTRY.values():  # later calls in this process look the new library up
        k._entries = None
    return len(entries)


# Where numpy keeps an array's data pointer and its dimensions pointer in the array object (PyArrayObject_fields:
# after the object header, `char *data`, `int nd`, `npy_intp *dimensions`); checked when the library loads.
ARRAY_DATA_OFFSET = 16
ARRAY_DIMS_OFFSET = 32


def _add_c_entry(target, cres, symbol: str, codes: tuple[str, ...], ir) -> None:  # noqa: ANN001
    """Add `int32 symbol(void *ret, args...)` calling the compiled wrapper with numba's calling convention. An array
    argument comes as the array object itself (PyObject *): the entry reads its data pointer and dimensions at
    ARRAY_DATA_OFFSET and ARRAY_DIMS_OFFSET, which costs ctypes nothing to pass (`arr.ctypes.data` and the shape
    took 0.6 us an array, a third of a call)."""
    fndesc = cres.fndesc
    module = cres.library.create_ir_module("linksim_entry")
    callee = ir.Function(module, target.call_conv.get_function_type(fndesc.restype, fndesc.argtypes),
                         fndesc.llvm_func_name)
    wtys = [target.get_value_type(t) for t in fndesc.argtypes]  # the wrapper's: pointer + dims per array
    i8p, i64 = ir.IntType(8).as_pointer(), ir.IntType(64)
    params, k = [], 0
    for c in codes:
        if c[0] == "a":
            params.append(i8p)
            k += 1 + int(c.split(":")[1])
        else:
            params.append(wtys[k])
            k += 1
    fn = ir.Function(module, ir.FunctionType(ir.IntType(32), [i8p, *params]), symbol)
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    args, k = [], 0
    for c, v in zip(codes, fn.args[1:], strict=True):
        if c[0] == "a":
            ndim = int(c.split(":")[1])
            data = b.load(b.bitcast(b.gep(v, [ir.Constant(i64, ARRAY_DATA_OFFSET)]), i8p.as_pointer()))
            args.append(b.bitcast(data, wtys[k]))
            dims = b.load(b.bitcast(b.gep(v, [ir.Constant(i64, ARRAY_DIMS_OFFSET)]), i64.as_pointer().as_pointer()))
            args += [b.load(b.gep(dims, [ir.Constant(i64, d)])) for d in range(ndim)]
            k += 1 + ndim
        else:
            args.append(v)
            k += 1
    status, out = target.call_conv.call_function(b, callee, fndesc.restype, fndesc.argtypes, args)
    from numba.core import types as nt

    if fndesc.restype != nt.none:
        b.store(out, b.bitcast(fn.args[0], out.type.as_pointer()))
    b.ret(b.zext(status.is_error, ir.IntType(32)))
    cres.library.add_ir_module(module)


def _array_layout_ok() -> bool:
    """numpy keeps the data and dimensions pointers where the entries read them (checked on two arrays)."""
    import numpy as np

    for a in (np.zeros(3, np.complex64), np.zeros((2, 5))[1:]):
        data = ctypes.c_void_p.from_address(id(a) + ARRAY_DATA_OFFSET).value
        dims = ctypes.c_void_p.from_address(id(a) + ARRAY_DIMS_OFFSET).value
        if data != a.ctypes.data or not dims:
            return False
        if list((ctypes.c_ssize_t * a.ndim).from_address(dims)) != list(a.shape):
            return False
    return True


def _undefined_symbols(obj: bytes, work: Path, nm: str) -> list[str]:
    import subprocess

    path = work / "probe.o"
    path.write_bytes(obj)
    out = subprocess.run([nm, "-u", str(path)], check=True, capture_output=True, text=True).stdout
    return [line.split()[-1] for line in out.splitlines() if line.strip()]


# Symbols numba's code refers to on its error and reference-counting paths. The library holds no kernel that
# allocates, so reference counts never reach zero; a raised exception only sets the entry's return code.
_STUBS_C = r"""
#include <stdio.h>
#include <stdlib.h>
static void linksim_unreachable(const char *what) {
    fprintf(stderr, "linksim compiled kernels: %s called (the library holds no allocating kernel)\n", what);
    abort();
}
void NRT_Free(void *p) { (void)p; linksim_unreachable("NRT_Free"); }
void NRT_MemInfo_call_dtor(void *mi) { (void)mi; linksim_unreachable("NRT_MemInfo_call_dtor"); }
void *numba_runtime_build_excinfo_struct(void *a, void *b) { (void)a; (void)b; return NULL; }
"""
