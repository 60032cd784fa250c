"""Build script: the Cython core, strictly.

On CPython the compiled core is built or the build FAILS, with a message
naming the compiler that is missing or failed and the escape hatch:

- ``FASTPART_PURE=1`` builds the pure-Python ``py3-none-any`` wheel on
  purpose (same answers, slower).  ``FASTPART_NO_EXTENSIONS=1`` at build time
  is an older spelling of the same switch; at run time it still selects the
  pure twin in an installed package (``fastpart._impl``).
- On other interpreters (PyPy, GraalPy) there is no CPython C API to compile
  against: the pure wheel is built, which is what they should run.

There is no silent fallback: a platform-tagged wheel without compiled code
would be cached by pip and hide the missing compiler for good.
"""

import os
import shutil
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


PURE = _flag("FASTPART_PURE") or _flag("FASTPART_NO_EXTENSIONS")
HATCH = (
    "To install the pure-Python core on purpose (same answers, slower), "
    "set FASTPART_PURE=1, e.g. `FASTPART_PURE=1 pip install fastpart --no-binary fastpart`."
)


def _fail(msg: str) -> "SystemExit":
    bar = "*" * 75
    return SystemExit(f"\n{bar}\nERROR: fastpart's compiled core cannot be built: {msg}\n{HATCH}\n{bar}\n")


class StrictBuildExt(build_ext):
    """Build the extension; a failure names the compiler and FASTPART_PURE=1."""

    def _compiler_name(self) -> str:
        cc = getattr(self.compiler, "compiler_so", None) or getattr(self.compiler, "compiler", None)
        if cc:
            return cc[0]
        if os.name == "nt":
            return "Microsoft Visual C++ 14.x (Build Tools for Visual Studio)"
        return os.environ.get("CC", "cc")

    def _explain(self, exc: BaseException) -> "SystemExit":
        name = self._compiler_name()
        if os.name != "nt" and shutil.which(name) is None:
            what = f"the C compiler `{name}` was not found on PATH (install gcc or clang, or set CC)"
        else:
            what = f"the C compiler `{name}` failed ({type(exc).__name__}: {exc})"
        return _fail(what)

    def run(self):
        try:
            super().run()
        except SystemExit:
            raise
        except Exception as exc:  # no compiler at all (e.g. MSVC not installed)
            raise self._explain(exc) from exc

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            raise self._explain(exc) from exc


def extensions():
    if PURE or sys.implementation.name != "cpython":
        return []
    try:
        from Cython.Build import cythonize
    except ImportError as exc:
        raise _fail(
            "Cython is not installed (pip's isolated builds install it from [build-system]; "
            "with --no-build-isolation install it first: pip install -c requirements/cython.txt cython)"
        ) from exc
    if os.name == "nt":
        args = ["/O2"]
    else:
        args = ["-O3", "-fno-strict-aliasing"]
    extra = os.environ.get("FASTPART_EXTRA_CFLAGS", "").split()  # e.g. sanitizers (scripts/sanitize.sh)
    ext = Extension(
        "fastpart._core",
        ["fastpart/_core.pyx"],
        depends=["fastpart/_kernels.h", "fastpart/_fastcall.h", "fastpart/_arrow.pxi", "fastpart/_arrow_kernels.h"],
        include_dirs=["fastpart"],
        extra_compile_args=args + extra,
        extra_link_args=extra,
    )
    return cythonize([ext], compiler_directives={"language_level": "3"}, quiet=True)


setup(ext_modules=extensions(), cmdclass={"build_ext": StrictBuildExt})
