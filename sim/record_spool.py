"""Per-I/O records streamed to disk as the run goes (`run.records = true`): columns are
buffered a block at a time and appended to an anonymous temporary file, which the result
reads back as memory-mapped columns. Memory stays flat however long the run; the file is
gone when the result is (it was never linked into a folder)."""

from __future__ import annotations

import tempfile
import weakref
from array import array

import numpy as np

#: The on-disk row: one field per column, packed.
RECORD = np.dtype(
    [
        ("workload", "<i4"),
        ("read", "i1"),
        ("error", "i1"),
        ("issue_s", "<f8"),
        ("latency_s", "<f8"),
        ("offset", "<i8"),
        ("length", "<i8"),
    ]
)
#: Rows buffered before they are written out.
BLOCK = 1 << 16
_CODES = {"workload": "i", "read": "b", "error": "b", "issue_s": "d", "latency_s": "d",
          "offset": "q", "length": "q"}  # fmt: skip


class RecordSpool:
    """The records of one run: `append` one row per completed I/O, then `columns()`."""

    def __init__(self) -> None:
        # open from the first record to `columns` (which maps it and closes it): no with-block
        # can hold it; a run that raises leaves it to the finalizer, closed without a warning
        self._file = tempfile.TemporaryFile(prefix="flashsim-records-")  # noqa: SIM115
        weakref.finalize(self, self._file.close)
        self._rows = 0
        self._buf = {name: array(code) for name, code in _CODES.items()}
        b = self._buf
        # bound appenders, in RECORD's field order
        self._appends = tuple(b[name].append for name in _CODES)

    def append(  # noqa: PLR0917 - once per host I/O
        self,
        workload: int,
        is_read: bool,
        error: bool,
        issue: float,
        latency: float,
        offset: int,
        length: int,
    ) -> None:
        w, rd, er, iss, lat, off, ln = self._appends
        w(workload)
        rd(is_read)
        er(error)
        iss(issue)
        lat(latency)
        off(offset)
        ln(length)
        if len(self._buf["workload"]) >= BLOCK:
            self._spill()

    def _spill(self) -> None:
        n = len(self._buf["workload"])
        if not n:
            return
        block = np.empty(n, dtype=RECORD)
        for name, values in self._buf.items():
            block[name] = np.frombuffer(values, dtype=RECORD.fields[name][0])  # type: ignore[index]
            del values[:]
        self._file.write(block.tobytes())
        self._rows += n

    def columns(self) -> dict[str, np.ndarray]:
        """Every record, as read-only columns mapped from the spooled file (the spool is
        finished: nothing more can be appended)."""
        self._spill()
        self._file.flush()
        if self._rows:
            rows = np.memmap(self._file, dtype=RECORD, mode="r", shape=(self._rows,))
        else:
            rows = np.empty(0, dtype=RECORD)
        self._file.close()  # the mapping keeps the file's pages; the file has no name
        return {name: rows[name] for name in _CODES}
