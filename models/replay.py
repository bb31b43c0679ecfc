"""Op-log replay (docs/oplog.md): run the operations of a JSON-lines log, in order, with
no time and no concurrency, and report each read and each error by line number."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from flashsim.models.errors import FlashCopyError, OpLogError
from flashsim.models.oplog import parse_lines
from flashsim.models.ops import FlashCopyAPI, apply
from flashsim.models.state.backend import safe_file_name
from flashsim.models.system import System


def replay(
    lines: Iterable[str], system: FlashCopyAPI, keep_going: bool = False
) -> Iterator[dict[str, object]]:
    """Yield `{"line": N, "data": hex}` for each read and, with `keep_going`,
    `{"line": N, "error": message}` for each rejected line (which changed nothing).
    Without `keep_going` the first bad line raises OpLogError(line, message).

    >>> log = ['{"op": "create", "volume": "A", "tracks": 4, "track_size": 4}',
    ...        '{"op": "read", "volume": "A", "offset": 2, "length": 4}']
    >>> list(replay(log, System()))
    [{'line': 2, 'data': '00000000'}]
    """
    for line, item in parse_lines(lines):
        if isinstance(item, OpLogError):
            error: FlashCopyError = item
        else:
            try:
                data = apply(system, item)
            except FlashCopyError as failure:
                error = failure
            else:
                if data is not None:
                    yield {"line": line, "data": data.hex()}
                continue
        if not keep_going:
            raise OpLogError(line, str(error)) from None
        yield {"line": line, "error": str(error)}


def dump_images(system: System, directory: str | os.PathLike[str]) -> list[Path]:
    """Write each volume's logical image to `directory/<volume>.img` (sparse: never-written
    tracks stay holes; the cost follows what was written, not the volumes' size) and return
    the paths. Raises OSError if the folder or a file cannot be written."""
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    written = []
    for name, vol in system.volumes.items():
        path = root / f"{safe_file_name(name)}.img"
        step = max(1, (4 << 20) // vol.track_size)
        with path.open("wb") as out:
            out.truncate(vol.size_bytes)
            for holder, lo, hi in system.resolve(name, 0, vol.tracks):
                backend = system.volumes[holder].backend
                for a, b in backend.data_runs(lo, hi):
                    for first in range(a, b, step):
                        end = min(b, first + step)
                        for track, image in enumerate(backend.load(first, end), first):
                            if image is not None:
                                out.seek(track * vol.track_size)
                                out.write(image)
        written.append(path)
    return written
