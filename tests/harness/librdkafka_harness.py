"""Call the real librdkafka partitioners bundled in the confluent-kafka wheel.

The confluent-kafka wheel ships librdkafka as a shared library
(``confluent_kafka.libs/librdkafka-<hash>.so.1`` on Linux, ``.dylibs`` on
macOS, a DLL next to the extension on Windows).  librdkafka exports its
built-in partitioners as plain C functions::

    int32_t rd_kafka_msg_partitioner_<name>(const rd_kafka_topic_t *rkt,
                                            const void *key, size_t keylen,
                                            int32_t partition_cnt,
                                            void *rkt_opaque, void *msg_opaque);

so this module loads that very library with :mod:`ctypes` and calls them.

Facts from librdkafka's ``src/rdkafka_msg.c`` this harness relies on:

* ``random`` calls ``rd_kafka_topic_partition_available(rkt, p)``, which
  dereferences ``rkt``; the ``*_random`` variants fall back to ``random``
  (``consistent_random`` when ``keylen == 0``, ``murmur2_random`` and
  ``fnv1a_random`` when ``key == NULL``).  So the harness creates a real
  producer handle and a real topic handle.  Without a broker the topic has no
  partitions, every partition is "unavailable" and ``random`` returns its
  second ``rd_jitter(0, n - 1)``: a value in ``0..n-1``.
* A NULL key and an empty key differ only by the pointer: the harness passes
  ``NULL`` (length 0) for ``None`` and a valid non-NULL pointer with length
  0 for ``b""``, as ``rd_kafka_msg_new00`` does for a produced message.
* The deterministic partitioners never look at ``rkt``.

Why a compiled batch loop: measured here, one ctypes call costs about 0.8 us
plus the Python loop around it.  The suite makes 100,000 keys x 8 partition
counts x 7 partitioners x 2 runs (11.2 million calls, two runs to see which
answers are random) plus repeated runs of the random ones: about 10 s through
ctypes, against about 0.5 s for the same calls from a C loop.  The pure-Python
twin of fastpart already spends most of the suite's ~60 s budget, so
:func:`build_batch_helper` compiles (once, cached by content) a ten-line C loop
with the system ``cc``.  The loop takes a *function pointer* obtained from the
ctypes-loaded librdkafka and applies it to a packed key table; nothing is
linked against librdkafka, so the loop calls exactly the functions ctypes
resolved in the bundled library.  Without ``cc`` the per-key ctypes path
(:meth:`Librdkafka.partition`) does the same work, every record still checked,
only slower.
"""

from __future__ import annotations

import ctypes
import glob
import hashlib
import os
import subprocess
import sys
import tempfile
from array import array
from pathlib import Path
from typing import Dict, List, Optional, Sequence

#: librdkafka partitioner names (``partitioner`` topic property values).
PARTITIONERS = (
    "random",
    "consistent",
    "consistent_random",
    "murmur2",
    "murmur2_random",
    "fnv1a",
    "fnv1a_random",
)

#: fastpart strategy name for each librdkafka partitioner.
STRATEGY_FOR = {
    "random": "librdkafka:random",
    "consistent": "librdkafka:consistent",
    "consistent_random": "librdkafka",
    "murmur2": "librdkafka:murmur2",
    "murmur2_random": "librdkafka:murmur2_random",
    "fnv1a": "librdkafka:fnv1a",
    "fnv1a_random": "librdkafka:fnv1a_random",
}

#: Partitioners confluent-kafka-python (2.13+) exposes as Python functions.
PYTHON_ORACLES = {"murmur2": "murmur2", "consistent": "consistent", "fnv1a": "fnv1a"}

RD_KAFKA_PRODUCER = 0
RD_KAFKA_CONF_OK = 0

_PARTITIONER_ARGTYPES = [
    ctypes.c_void_p,  # const rd_kafka_topic_t *rkt
    ctypes.c_void_p,  # const void *key
    ctypes.c_size_t,  # size_t keylen
    ctypes.c_int32,  # int32_t partition_cnt
    ctypes.c_void_p,  # void *rkt_opaque
    ctypes.c_void_p,  # void *msg_opaque
]


# --------------------------------------------------------------------------- locating the library

def _library_patterns() -> List[str]:
    if sys.platform == "darwin":
        return ["librdkafka*.dylib"]
    if sys.platform == "win32":
        return ["librdkafka*.dll", "rdkafka*.dll"]
    return ["librdkafka*.so*"]


def _loaded_librdkafka() -> Optional[str]:
    """The librdkafka the imported ``confluent_kafka.cimpl`` actually mapped (Linux)."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
            for line in f:
                path = line.rstrip("\n").split(None, 5)[-1]
                name = os.path.basename(path)
                if name.startswith("librdkafka") and ".so" in name and os.path.isfile(path):
                    return path
    except OSError:
        pass
    return None


def find_library() -> Optional[str]:
    """Path of the librdkafka used by the installed confluent-kafka, or None.

    ``$FASTPART_LIBRDKAFKA`` overrides the search.  Otherwise: the library the
    imported extension mapped (Linux), then the wheel's bundled copies
    (``confluent_kafka.libs``, ``confluent_kafka/.dylibs``, the package dir).
    """
    env = os.environ.get("FASTPART_LIBRDKAFKA")
    if env:
        return env if os.path.isfile(env) else None
    try:
        import confluent_kafka  # noqa: F401
        import confluent_kafka.cimpl  # noqa: F401  (maps the bundled library)
    except ImportError:
        return None
    found = _loaded_librdkafka()
    if found:
        return found
    pkg = Path(confluent_kafka.__file__).resolve().parent
    dirs = [pkg.parent / "confluent_kafka.libs", pkg / ".dylibs", pkg, pkg.parent]
    for d in dirs:
        for pattern in _library_patterns():
            hits = sorted(glob.glob(str(d / pattern)))
            if hits:
                return hits[0]
    return None


# --------------------------------------------------------------------------- the batch loop

_BATCH_SOURCE = r"""
/* fastpart test helper: apply one librdkafka partitioner to a packed key table. */
#include <stddef.h>
#include <stdint.h>

typedef int32_t (*fp_partitioner_t)(const void *rkt, const void *key, size_t keylen,
                                    int32_t partition_cnt, void *rkt_opaque, void *msg_opaque);

/* key i is blob[offsets[i] .. offsets[i+1]); is_null[i] != 0 means a NULL key
 * (passed as a NULL pointer with length 0, as librdkafka's producer does). */
void fp_partition_batch(fp_partitioner_t fn, const void *rkt,
                        const unsigned char *blob, const int64_t *offsets,
                        const unsigned char *is_null, int64_t count,
                        int32_t partition_cnt, int32_t repeat, int32_t *out) {
    int64_t i;
    int32_t r;
    for (r = 0; r < repeat; r++) {
        for (i = 0; i < count; i++) {
            const unsigned char *key = is_null[i] ? NULL : blob + offsets[i];
            size_t keylen = is_null[i] ? 0 : (size_t)(offsets[i + 1] - offsets[i]);
            out[r * count + i] = fn(rkt, key, keylen, partition_cnt, NULL, NULL);
        }
    }
}
"""


def build_batch_helper(cc: str, build_dir: Path) -> Path:
    """Compile the batch loop with *cc* into *build_dir* (cached by content)."""
    suffix = ".dll" if sys.platform == "win32" else ".so"
    digest = hashlib.sha256((_BATCH_SOURCE + "\0" + cc + "\0" + sys.platform).encode()).hexdigest()[:16]
    target = Path(build_dir) / f"fp_rdk_batch_{digest}{suffix}"
    if target.exists():
        return target
    build_dir = Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=build_dir) as tmp:
        src = Path(tmp, "fp_rdk_batch.c")
        src.write_text(_BATCH_SOURCE, encoding="ascii")
        out = Path(tmp, "fp_rdk_batch" + suffix)
        cmd = [cc, "-O2", "-shared", "-fPIC", "-o", str(out), str(src)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"compiling the librdkafka batch helper failed: {' '.join(cmd)}\n"
                               f"{proc.stdout}{proc.stderr}")
        os.replace(out, target)  # atomic: concurrent test runs never see half a file
    return target


class KeyBatch:
    """Keys packed once for the C loop: one blob, int64 offsets, null flags."""

    def __init__(self, keys: Sequence[Optional[bytes]]):
        self.keys = keys
        self.count = len(keys)
        parts = []
        offsets = array("q", [0])
        nulls = bytearray(max(1, self.count))
        pos = 0
        for i, k in enumerate(keys):
            if k is None:
                nulls[i] = 1
            else:
                parts.append(k)
                pos += len(k)
            offsets.append(pos)
        # one spare byte so that even a table of empty keys has a non-NULL blob
        self._blob = ctypes.create_string_buffer(b"".join(parts) + b"\0")
        self._offsets = offsets
        self._nulls = (ctypes.c_ubyte * len(nulls)).from_buffer(nulls)
        self._nulls_keep = nulls
        self._offsets_c = (ctypes.c_int64 * len(offsets)).from_buffer(offsets)


# --------------------------------------------------------------------------- the library

class Librdkafka:
    """The bundled librdkafka with a producer + topic handle for the partitioners.

    Use as a context manager or call :meth:`close`; no broker is contacted
    (no ``bootstrap.servers``), so nothing can hang.
    """

    def __init__(self, path: str, batch_helper: Optional[Path] = None):
        self.path = path
        self.lib = ctypes.CDLL(path)
        lib = self.lib
        lib.rd_kafka_version.restype = ctypes.c_int
        lib.rd_kafka_version.argtypes = []
        lib.rd_kafka_version_str.restype = ctypes.c_char_p
        lib.rd_kafka_version_str.argtypes = []
        lib.rd_kafka_conf_new.restype = ctypes.c_void_p
        lib.rd_kafka_conf_new.argtypes = []
        lib.rd_kafka_conf_set.restype = ctypes.c_int
        lib.rd_kafka_conf_set.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                          ctypes.c_char_p, ctypes.c_size_t]
        lib.rd_kafka_conf_destroy.restype = None
        lib.rd_kafka_conf_destroy.argtypes = [ctypes.c_void_p]
        lib.rd_kafka_new.restype = ctypes.c_void_p
        lib.rd_kafka_new.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
        lib.rd_kafka_destroy.restype = None
        lib.rd_kafka_destroy.argtypes = [ctypes.c_void_p]
        lib.rd_kafka_topic_new.restype = ctypes.c_void_p
        lib.rd_kafka_topic_new.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
        lib.rd_kafka_topic_destroy.restype = None
        lib.rd_kafka_topic_destroy.argtypes = [ctypes.c_void_p]

        self.functions: Dict[str, ctypes._CFuncPtr] = {}  # type: ignore[name-defined]
        for name in PARTITIONERS:
            fn = getattr(lib, "rd_kafka_msg_partitioner_" + name)
            fn.restype = ctypes.c_int32
            fn.argtypes = _PARTITIONER_ARGTYPES
            self.functions[name] = fn

        self.version = lib.rd_kafka_version()
        self.version_str = lib.rd_kafka_version_str().decode()
        self.rk: Optional[int] = None
        self.rkt: Optional[int] = None
        self._open()

        self._batch = None
        if batch_helper is not None:
            helper = ctypes.CDLL(str(batch_helper))
            helper.fp_partition_batch.restype = None
            helper.fp_partition_batch.argtypes = [
                ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                ctypes.c_int64, ctypes.c_int32, ctypes.c_int32, ctypes.c_void_p,
            ]
            self._batch_lib = helper
            self._batch = helper.fp_partition_batch

    # -- handles ------------------------------------------------------------
    def _open(self) -> None:
        lib = self.lib
        conf = lib.rd_kafka_conf_new()
        if not conf:
            raise RuntimeError("rd_kafka_conf_new failed")
        errstr = ctypes.create_string_buffer(512)
        # No bootstrap.servers: the producer never connects anywhere.
        # log_level 0 silences the "no bootstrap.servers" warning.
        for k, v in (("client.id", "fastpart-conformance"), ("log_level", "0")):
            if lib.rd_kafka_conf_set(conf, k.encode(), v.encode(), errstr, len(errstr)) != RD_KAFKA_CONF_OK:
                lib.rd_kafka_conf_destroy(conf)
                raise RuntimeError(f"rd_kafka_conf_set({k}) failed: {errstr.value.decode(errors='replace')}")
        rk = lib.rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, len(errstr))
        if not rk:
            lib.rd_kafka_conf_destroy(conf)  # only owned by rd_kafka_new on success
            raise RuntimeError(f"rd_kafka_new failed: {errstr.value.decode(errors='replace')}")
        self.rk = rk
        rkt = lib.rd_kafka_topic_new(rk, b"fastpart-conformance", None)
        if not rkt:
            self.close()
            raise RuntimeError("rd_kafka_topic_new failed")
        self.rkt = rkt

    def close(self) -> None:
        """Destroy the topic and producer handles (idempotent)."""
        if self.rkt:
            self.lib.rd_kafka_topic_destroy(self.rkt)
            self.rkt = None
        if self.rk:
            self.lib.rd_kafka_destroy(self.rk)
            self.rk = None

    def __enter__(self) -> "Librdkafka":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- calls --------------------------------------------------------------
    @property
    def has_batch(self) -> bool:
        return self._batch is not None

    def partition(self, name: str, key: Optional[bytes], n: int) -> int:
        """One call through ctypes: NULL for ``None``, a non-NULL pointer for ``b""``."""
        if self.rkt is None:
            raise RuntimeError("the librdkafka handles are closed")
        fn = self.functions[name]
        if key is None:
            return fn(self.rkt, None, 0, n, None, None)
        # ctypes passes a bytes object as a pointer to its (NUL-terminated)
        # buffer: never NULL, also for b"".
        return fn(self.rkt, key, len(key), n, None, None)

    def partition_batch(self, name: str, batch: KeyBatch, n: int, repeat: int = 1) -> List[array]:
        """Partition every key of *batch* *repeat* times; one array('i') per run."""
        if self.rkt is None:
            raise RuntimeError("the librdkafka handles are closed")
        if self._batch is None:
            # slow fallback: one ctypes call per key
            return [array("i", [self.partition(name, k, n) for k in batch.keys]) for _ in range(repeat)]
        out = array("i", bytes(4 * batch.count * repeat))
        out_c = (ctypes.c_int32 * max(1, len(out))).from_buffer(out)
        fn_ptr = ctypes.cast(self.functions[name], ctypes.c_void_p)
        self._batch(fn_ptr, self.rkt, batch._blob, batch._offsets_c, batch._nulls,
                    batch.count, n, repeat, out_c)
        del out_c  # release the export so the array can be sliced freely
        return [out[r * batch.count:(r + 1) * batch.count] for r in range(repeat)]


# --------------------------------------------------------------------------- the produce path

class MockCluster:
    """librdkafka's built-in mock cluster (``rdkafka_mock.h``), for the produce path.

    The exported partitioner functions are what the producer calls, but the
    producer decides *whether* to call them: ``rd_kafka_msg_partitioner``
    sends NULL keys (and empty keys under ``consistent_random``) to the sticky
    partitioner instead, except for ``consistent``, ``murmur2`` and ``fnv1a``
    (``rd_kafka_topic_new0`` sets ``random_partitioner`` for those).  Producing
    through confluent-kafka's ``Producer`` into an in-process mock cluster
    checks that end to end, including how the Python client turns ``None`` and
    ``b""`` into NULL / non-NULL key pointers.  The cluster listens on
    127.0.0.1 with an ephemeral port; no external broker is involved.
    """

    def __init__(self, rdk: Librdkafka, brokers: int = 1):
        lib = rdk.lib
        for sym in ("rd_kafka_mock_cluster_new", "rd_kafka_mock_cluster_bootstraps",
                    "rd_kafka_mock_topic_create", "rd_kafka_mock_cluster_destroy"):
            if not hasattr(lib, sym):
                raise RuntimeError(f"this librdkafka does not export {sym}")
        lib.rd_kafka_mock_cluster_new.restype = ctypes.c_void_p
        lib.rd_kafka_mock_cluster_new.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.rd_kafka_mock_cluster_bootstraps.restype = ctypes.c_char_p
        lib.rd_kafka_mock_cluster_bootstraps.argtypes = [ctypes.c_void_p]
        lib.rd_kafka_mock_topic_create.restype = ctypes.c_int
        lib.rd_kafka_mock_topic_create.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int]
        lib.rd_kafka_mock_cluster_destroy.restype = None
        lib.rd_kafka_mock_cluster_destroy.argtypes = [ctypes.c_void_p]
        self.lib = lib
        self.mcluster = lib.rd_kafka_mock_cluster_new(rdk.rk, brokers)
        if not self.mcluster:
            raise RuntimeError("rd_kafka_mock_cluster_new failed")
        self.bootstraps = lib.rd_kafka_mock_cluster_bootstraps(self.mcluster).decode()
        self.topics: Dict[int, str] = {}

    def topic(self, partitions: int) -> str:
        """A topic with *partitions* partitions (created once)."""
        if partitions not in self.topics:
            name = f"fastpart-{partitions}"
            err = self.lib.rd_kafka_mock_topic_create(self.mcluster, name.encode(), partitions, 1)
            if err:
                raise RuntimeError(f"rd_kafka_mock_topic_create({name}, {partitions}) failed: error {err}")
            self.topics[partitions] = name
        return self.topics[partitions]

    def produce(self, partitioner: str, keys: Sequence[Optional[bytes]], partitions: int,
                timeout: float = 60.0) -> List[int]:
        """Produce one message per key with ``partitioner``; the partition of each delivery."""
        import confluent_kafka

        topic = self.topic(partitions)
        producer = confluent_kafka.Producer({
            "bootstrap.servers": self.bootstraps,
            "partitioner": partitioner,
            "linger.ms": 5,
            "log_level": 3,
        })
        got: List[Optional[int]] = [None] * len(keys)
        errors: List[str] = []

        for i, key in enumerate(keys):
            def cb(err, msg, i=i):
                if err is not None:
                    errors.append(f"record {i}: {err}")
                else:
                    got[i] = msg.partition()
            while True:
                try:
                    producer.produce(topic, value=b"v", key=key, on_delivery=cb)
                    break
                except BufferError:
                    producer.poll(0.05)
            producer.poll(0)
        remaining = producer.flush(timeout)
        del producer
        if remaining or errors or any(p is None for p in got):
            raise RuntimeError(f"mock produce with partitioner={partitioner} n={partitions}: "
                               f"{remaining} undelivered, errors: {errors[:5]}")
        return got  # type: ignore[return-value]

    def close(self) -> None:
        if self.mcluster:
            self.lib.rd_kafka_mock_cluster_destroy(self.mcluster)
            self.mcluster = None


def python_oracles() -> Dict[str, object]:
    """``{librdkafka partitioner name: confluent_kafka function}`` that exist."""
    try:
        import confluent_kafka
    except ImportError:
        return {}
    return {name: getattr(confluent_kafka, attr) for name, attr in PYTHON_ORACLES.items()
            if hasattr(confluent_kafka, attr)}
