"""Build script: the Cython core, with a pure-Python fallback.

A source install where the extension cannot be compiled (no compiler, no
Cython) falls back to the pure twin with a visible warning.  Under
cibuildwheel (CIBUILDWHEEL=1) or FASTPART_REQUIRE_EXTENSIONS=1 a failed
compile fails the build.  FASTPART_NO_EXTENSIONS=1 builds the pure wheel.
"""

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

REQUIRE = os.environ.get("CIBUILDWHEEL", "0") == "1" or os.environ.get("FASTPART_REQUIRE_EXTENSIONS", "0") == "1"
PURE = os.environ.get("FASTPART_NO_EXTENSIONS", "0") not in ("", "0")


def _warn(msg: str) -> None:
    bar = "*" * 75
    sys.stderr.write(f"\n{bar}\nWARNING: {msg}\nfastpart will use its pure-Python core (same answers, slower).\n{bar}\n\n")


class OptionalBuildExt(build_ext):
    """Build the extension; fall back to the pure twin unless it is required."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # no compiler at all
            if REQUIRE:
                raise
            _warn(f"the compiled core could not be built: {exc}")

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            if REQUIRE:
                raise
            _warn(f"the compiled core could not be built: {exc}")


def extensions():
    if PURE or not sys.implementation.name == "cpython":
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        if REQUIRE:
            raise
        _warn("Cython is not installed")
        return []
    if os.name == "nt":
        args = ["/O2"]
    else:
        args = ["-O3", "-fno-strict-aliasing"]
    ext = Extension(
        "fastpart._core",
        ["fastpart/_core.pyx"],
        depends=["fastpart/_kernels.h", "fastpart/_fastcall.h", "fastpart/_arrow.pxi", "fastpart/_arrow_kernels.h"],
        include_dirs=["fastpart"],
        extra_compile_args=args,
    )
    return cythonize([ext], compiler_directives={"language_level": "3"}, quiet=True)


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
