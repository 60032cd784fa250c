"""Build and test matrix: a wheel for every CPython on this machine, and PyPy.

    nox -s wheels          # every CPython 3.9-3.13 found (pyenv or PATH)
    nox -s wheels-3.12     # one of them
    nox -s pypy            # Debian's pypy3 with the pure twin (from the sdist)

``wheels``: one sdist is built from the source tree (``python -m build
--sdist``, exact Cython from requirements/cython.txt); for each interpreter
pip builds a wheel FROM THAT SDIST, installs it with the ``test`` and
``arrow`` extras into a fresh virtualenv, checks ``IMPLEMENTATION ==
"native"``, and runs the test suite (conformance, broker, sanitizer and
engine tests aside) against the INSTALLED wheel: pytest runs from a temporary
directory, and tests/conftest.py puts only tests/ on sys.path, so
``import fastpart`` is the wheel (checked: ``fastpart.__file__`` must be in
the virtualenv).  Then the installed package's docstring examples.

``pypy``: the sdist installs on PyPy as the pure ``py3-none-any`` wheel
(setup.py builds no extension off CPython), ``IMPLEMENTATION == "python"``,
and the whole suite (conformance and broker aside) runs; pyarrow has no PyPy
wheels, so the Arrow tests skip there with their reason.

Interpreters are looked up on PATH as ``python3.X``, and in pyenv's versions
directory (``$PYENV_ROOT`` or ``~/.pyenv``); none is downloaded.  A missing
one skips its session, or fails it when FASTPART_REQUIRE_TOOLCHAINS=1.
FASTPART_NOX_PYTEST="..." adds pytest options (.ci/run passes ``-x -q``).
"""

from __future__ import annotations

import glob
import os
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

import time

import nox

ROOT = Path(__file__).resolve().parent
CPYTHONS = ["3.9", "3.10", "3.11", "3.12", "3.13"]
# Tests that need a toolchain/engine/broker or the source tree's C files run
# once in the main suite, not once per interpreter (those markers that are
# registered: pytest --strict-markers refuses unknown names in -m).
SKIP_MARKERS = ("conformance", "broker", "sanitizer", "spark", "benchmark", "engines", "slow")
REQUIRE = os.environ.get("FASTPART_REQUIRE_TOOLCHAINS", "") not in ("", "0")

nox.options.sessions = ["wheels", "pypy"]
nox.options.error_on_missing_interpreters = REQUIRE
nox.options.reuse_existing_virtualenvs = False


def _add_pyenv_to_path() -> None:
    """Put pyenv's installed CPythons on PATH (as python3.X), ahead of its shims.

    A pyenv shim answers "command not found" for a version that is installed but
    not selected, so the versions' own bin directories go first.
    """
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    dirs = []
    for version in CPYTHONS:
        found = sorted(glob.glob(os.path.join(root, "versions", f"{version}.*", "bin", f"python{version}")))
        if found:
            dirs.append(os.path.dirname(found[-1]))
    if dirs:
        os.environ["PATH"] = os.pathsep.join(dirs + [os.environ.get("PATH", "")])


_add_pyenv_to_path()


def _env(**extra: str) -> dict[str, str]:
    env = {
        "PIP_CONSTRAINT": str(ROOT / "requirements" / "cython.txt"),
        "PIP_BUILD_CONSTRAINT": str(ROOT / "requirements" / "cython.txt"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        # the variables that steer setup.py must not leak in from the caller
        "FASTPART_PURE": "0",
        "FASTPART_NO_EXTENSIONS": "0",
        # the sessions install the test and arrow extras only: the engine tests (polars, DuckDB,
        # pandas, nanoarrow) skip here with their reason; the main suite runs them (.ci/run)
        "FASTPART_REQUIRE_TOOLCHAINS": "0",
    }
    env.update(extra)
    return env


_SDIST: list[Path] = []


def _sdist(session: nox.Session) -> Path:
    """One sdist of the source tree per nox run (built with the running Python)."""
    if _SDIST:
        return _SDIST[0]
    out = Path(tempfile.mkdtemp(prefix="fastpart-nox-sdist-"))
    session.run(sys.executable, "-m", "build", "--sdist", "--outdir", str(out), str(ROOT),
                env=_env(), external=True, silent=True)
    (sdist,) = out.glob("fastpart-*.tar.gz")
    _SDIST.append(sdist)
    return sdist


def _markers() -> str:
    import tomllib

    with open(ROOT / "pyproject.toml", "rb") as f:
        registered = tomllib.load(f)["tool"]["pytest"]["ini_options"]["markers"]
    names = {m.split(":")[0].split("(")[0].strip() for m in registered}
    return " and ".join(f"not {m}" for m in SKIP_MARKERS if m in names)


def _pytest_args() -> list[str]:
    return shlex.split(os.environ.get("FASTPART_NOX_PYTEST", ""))


def _check_impl(session: nox.Session, expected: str, tmp: str) -> None:
    code = (
        "import sys, fastpart; print('fastpart', fastpart.__version__, fastpart.IMPLEMENTATION, fastpart.__file__);"
        f"sys.exit(fastpart.IMPLEMENTATION != {expected!r} or not fastpart.__file__.startswith(sys.prefix))"
    )
    with session.chdir(tmp):
        session.run("python", "-c", code)


def _suite(session: nox.Session, tmp: str, env: dict[str, str], doctest_args: tuple[str, ...] = (),
           suite_args: tuple[str, ...] = ()) -> None:
    with session.chdir(tmp):
        session.run("python", "-m", "pytest", str(ROOT / "tests"), "-m", _markers(), "-p", "no:cacheprovider",
                    *suite_args, *_pytest_args(), *session.posargs, env=env)
        session.run("python", "-m", "pytest", "--pyargs", "fastpart", "--doctest-modules",
                    "--doctest-ignore-import-errors", "-p", "no:cacheprovider", "-q", *doctest_args, env=env)


@nox.session(python=CPYTHONS)
def wheels(session: nox.Session) -> None:
    """Build a wheel from the sdist for this CPython, install it, test it."""
    t0 = time.monotonic()
    sdist = _sdist(session)
    tmp = session.create_tmp()
    wheel_dir = Path(tmp, "wheel")
    shutil.rmtree(wheel_dir, ignore_errors=True)
    session.run("python", "-m", "pip", "wheel", "-q", "--no-deps", "--no-binary", "fastpart",
                "-w", str(wheel_dir), str(sdist), env=_env())
    (wheel,) = wheel_dir.glob("fastpart-*.whl")
    tag = wheel.name.split("-", 2)[2]
    session.log(f"built {wheel.name} ({wheel.stat().st_size // 1024} KiB) in {time.monotonic() - t0:.0f}s")
    if tag.endswith("none-any.whl") or "_core" not in " ".join(_names(wheel)):
        session.error(f"{wheel.name}: not a platform wheel with the compiled core")
    # --only-binary: NumPy/pyarrow wheels exist for every CPython here; a source
    # build of them would take long and prove nothing about fastpart.
    session.install(f"{wheel}[test,arrow]", "--only-binary", "numpy,pyarrow", env=_env())
    _check_impl(session, "native", tmp)
    session.log(f"installed in {time.monotonic() - t0:.0f}s")
    _suite(session, tmp, _env(FASTPART_REQUIRE_NATIVE="1"))
    session.log(f"{session.name}: {time.monotonic() - t0:.0f}s")


@nox.session(python="pypy3")
def pypy(session: nox.Session) -> None:
    """The sdist on PyPy: the pure twin, and the whole suite against it."""
    t0 = time.monotonic()
    sdist = _sdist(session)
    tmp = session.create_tmp()
    session.install(f"{sdist}[test]", "--only-binary", "numpy", env=_env())
    _check_impl(session, "python", tmp)
    session.log(f"installed in {time.monotonic() - t0:.0f}s")
    # The examples of _arrow_py read Arrow data (refused on PyPy by design: no ctypes.pythonapi; the
    # refusal itself is tests/test_arrow_pypy.py) and those of _engines need pyarrow (no PyPy wheel).
    # --assert=plain: PyPy 3.9 itself segfaulted once (1 run in 4 here) inside pytest's assertion
    # rewriting while collecting; plain asserts still fail the tests, with shorter messages
    _suite(session, tmp, _env(FASTPART_REQUIRE_NATIVE="0"), ("-k", "not _arrow_py and not _engines"),
           ("--assert=plain",))
    session.log(f"{session.name}: {time.monotonic() - t0:.0f}s")


def _names(wheel: Path) -> list[str]:
    import zipfile

    with zipfile.ZipFile(wheel) as zf:
        return zf.namelist()
