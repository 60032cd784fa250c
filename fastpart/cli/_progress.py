"""Progress on standard error for long runs: keys read, keys/s, bytes of the input files.

Shown only when standard error is a terminal, never with ``--quiet``; drawn by tqdm when it is
installed (the ``cli`` extra), otherwise not at all.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, Iterable, Iterator, Optional


def _delay() -> float:
    """Seconds before the bar appears: 0.5, or ``FASTPART_PROGRESS_DELAY`` (tests set 0)."""
    try:
        return max(0.0, float(os.environ.get("FASTPART_PROGRESS_DELAY", "0.5")))
    except ValueError:
        return 0.5


class Progress:
    """Keys read, keys/s and bytes read (of the total when known), on standard error.

    Shown only when standard error is a terminal and ``--quiet`` is not given,
    and only if the run lasts over half a second (``FASTPART_PROGRESS_DELAY``
    seconds); uses tqdm when installed.
    """

    def __init__(self, args: argparse.Namespace, total_bytes: Optional[int] = None) -> None:
        self.enabled = (not getattr(args, "quiet", False) and getattr(sys.stderr, "isatty", lambda: False)()
                        and not getattr(args, "_no_progress", False))
        self.total_bytes = total_bytes
        self.keys = 0
        self._bar: Any = None
        self._start = time.monotonic()
        self._last_bytes = 0
        self._delay = _delay()

    def update(self, keys: int, bytes_read: Optional[int] = None) -> None:
        """Count *keys* more keys; *bytes_read* is the total read so far (if known)."""
        self.keys += keys
        if not self.enabled:
            return
        elapsed = time.monotonic() - self._start
        if self._bar is None:
            if elapsed < self._delay:
                return
            try:
                from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]
            except ImportError:
                self.enabled = False
                return
            if self.total_bytes:
                self._bar = tqdm(total=self.total_bytes, unit="B", unit_scale=True, unit_divisor=1024,
                                 file=sys.stderr, leave=False, dynamic_ncols=True)
            else:
                self._bar = tqdm(unit=" keys", unit_scale=True, file=sys.stderr, leave=False,
                                 dynamic_ncols=True)
            first = True
        else:
            first = False
        rate = self.keys / elapsed if elapsed > 0 else 0.0
        if self.total_bytes and bytes_read is not None:
            self._bar.update(max(0, bytes_read - self._last_bytes))
            self._last_bytes = bytes_read
            self._bar.set_postfix_str(f"{self.keys:,} keys, {rate:,.0f} keys/s", refresh=False)
        else:
            self._bar.update(self.keys if first else keys)
        if first:  # drawn at once with the counts (tqdm redraws at most every 0.1 s after)
            self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.refresh()  # the last counts, even when the run ended within tqdm's interval
            self._bar.close()
            self._bar = None


def with_progress(args: argparse.Namespace, batches: Iterable[Any]) -> Iterator[Any]:
    """Pass batches through, updating a :class:`Progress` (keys/s, bytes of all ``--file``s)."""
    files = [f for f in (getattr(args, "file", None) or []) if f != "-"]
    total: Optional[int] = None
    if files and len(files) == len(getattr(args, "file", None) or []):
        try:
            total = sum(os.path.getsize(f) for f in files)
        except OSError:
            total = None
    bar = Progress(args, total)
    done = 0
    last_source, last_bytes = None, 0
    try:
        for b in batches:
            if b.source != last_source:
                done += last_bytes
                last_source, last_bytes = b.source, 0
            if b.bytes_read is not None:
                last_bytes = b.bytes_read
            bar.update(len(b), done + last_bytes)
            yield b
    finally:
        bar.close()


