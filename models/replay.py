"""Op-log replay (docs/oplog.md): run the operations of a JSON-lines log, in order, with
no time and no concurrency, and report each read and each error by line number."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from flashsim.models.errors import FlashCopyError, OpLogError
from flashsim.models.oplog import parse_lines
from flashsim.models.ops import FlashCopyAPI, apply
from flashsim.models.output_folder import output_folder
from flashsim.models.state.file_names import image_file_stem
from flashsim.models.system import System


def replay(
    lines: Iterable[str], system: FlashCopyAPI, keep_going: bool = False
) -> Iterator[dict[str, object]]:
    """Yield `{"line": N, "data": hex}` for each read, `{"line": N, "space": report}` for each
    `space` and, with `keep_going`,
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
                if isinstance(data, bytes):
                    yield {"line": line, "data": data.hex()}
                elif data is not None:
                    yield {"line": line, "space": data}
                continue
        if not keep_going:
            raise OpLogError(line, str(error)) from None
        yield {"line": line, "error": str(error)}


def image_file_names(volumes: Iterable[str]) -> dict[str, str]:
    """Each volume's image file name, distinct by construction: equal cut names (a hash
    collision) get `~2`, `~3`, ... in the order given."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for volume in volumes:
        stem = candidate = image_file_stem(volume)
        again = 1
        while candidate in taken:
            again += 1
            candidate = f"{stem}~{again}"
        taken.add(candidate)
        names[volume] = f"{candidate}.img"
    return names


def dump_images(
    system: System, directory: str | os.PathLike[str], force: bool = False
) -> list[Path]:
    """Write each volume's logical image to `directory/<image_file_stem(volume)>.img`
    (sparse: never-written tracks stay holes; the cost follows what was written, not the
    volumes' size) and return the paths. All or nothing: the images are written into a fresh
    folder beside `directory`, never through a link, then swapped in whole
    (`flashsim.models.output_folder`; an existing `directory` that is not a flashsim output
    is replaced only with `force`). Raises OutputFolderError, `directory` left as it was."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    files = image_file_names(system.volumes)
    with output_folder(directory, "replay --dump", force) as build:
        for name, vol in system.volumes.items():
            step = max(1, (4 << 20) // vol.track_size)
            with os.fdopen(os.open(build / files[name], flags, 0o666), "wb") as out:
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
    return [Path(directory) / files[name] for name in system.volumes]
