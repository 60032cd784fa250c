"""The public API's types, as a user's type checker sees them.

``tests/typing/user_code.py`` calls every public core function correctly and
pins what is inferred with ``assert_type``: mypy --strict and pyright
(strict) must report nothing.  ``tests/typing/user_errors.py`` marks each
wrong call with ``# expect-error``: both checkers must report an error on
exactly those lines (so a too-loose signature, e.g. ``key: Any``, fails).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TYPING = Path(__file__).resolve().parent / "typing"
GOOD = TYPING / "user_code.py"
BAD = TYPING / "user_errors.py"


def _need(tool: str, module_only: bool = False) -> None:
    # module_only: the checker runs as `sys.executable -m tool` (it must see THIS interpreter's
    # fastpart), so a `tool` command on PATH from another environment does not count.
    if importlib.util.find_spec(tool) is None and (module_only or shutil.which(tool) is None):
        if os.environ.get("FASTPART_REQUIRE_TOOLCHAINS", "") not in ("", "0"):
            pytest.fail(f"FASTPART_REQUIRE_TOOLCHAINS=1 but {tool} is not installed "
                        "(pip install -e '.[test-full]')", pytrace=False)
        pytest.skip(f"{tool} is not installed for {sys.executable} (it is in the test-full extra)")


def _expected_lines(path: Path) -> set:
    return {i for i, line in enumerate(path.read_text().splitlines(), 1) if "# expect-error" in line}


def _mypy(path: Path) -> dict:
    _need("mypy", module_only=True)
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-incremental",
         "--python-version", f"{sys.version_info.major}.{sys.version_info.minor}",
         "--hide-error-context", "--no-error-summary", str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    errors: dict = {}
    for line in proc.stdout.splitlines():
        m = re.match(r"^(.*?):(\d+): error: (.*)$", line)
        if m and Path(m.group(1)).name == path.name:
            errors.setdefault(int(m.group(2)), []).append(m.group(3))
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr  # 2: mypy itself failed
    # 1 without a parsed error is not a clean check (e.g. "No module named mypy", errors elsewhere)
    assert proc.returncode == 0 or errors, proc.stdout[-3000:] + proc.stderr[-3000:]
    return errors


def _pyright(path: Path) -> dict:
    _need("pyright")
    cmd = [sys.executable, "-m", "pyright"] if importlib.util.find_spec("pyright") else ["pyright"]
    proc = subprocess.run(cmd + ["--outputjson", "--pythonpath", sys.executable, str(path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        pytest.fail(f"pyright gave no JSON report: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    errors: dict = {}
    for d in report["generalDiagnostics"]:
        if d["severity"] == "error" and Path(d["file"]).name == path.name:
            errors.setdefault(d["range"]["start"]["line"] + 1, []).append(d["message"])
    return errors


@pytest.mark.parametrize("checker", [_mypy, _pyright], ids=["mypy", "pyright"])
def test_correct_use_type_checks(checker):
    if sys.version_info < (3, 10):
        # NumPy 2.0.x (the last for 3.9) types ndarray as SupportsIndex too, so both serde
        # overloads match np.arange(3) and the checker infers Any: assert_type cannot pin it.
        pytest.skip("Python 3.9 has only NumPy <= 2.0, whose stubs make serde's array overloads infer Any")
    errors = checker(GOOD)
    assert errors == {}, "\n".join(f"{GOOD.name}:{k}: {v}" for k, v in sorted(errors.items()))


@pytest.mark.parametrize("checker", [_mypy, _pyright], ids=["mypy", "pyright"])
def test_wrong_use_is_rejected_line_by_line(checker):
    want = _expected_lines(BAD)
    assert len(want) >= 10
    errors = checker(BAD)
    missing = sorted(want - set(errors))
    extra = sorted(set(errors) - want)
    assert not missing, f"not rejected: {[BAD.read_text().splitlines()[i - 1] for i in missing]}"
    assert not extra, f"unexpected errors: {[(i, errors[i]) for i in extra]}"


def test_strategy_literal_lists_every_name():
    from typing import get_args

    from fastpart import StrategyName
    from fastpart._strategies import CODES

    assert set(get_args(StrategyName)) == set(CODES)
