"""A folder of results written safely (`run --out`, `sweep --out`, `replay --dump`).

The new content is built in a fresh folder beside the destination (`.NAME.tmp-PID-TOKEN`),
every file and folder of it fsynced, then swapped with the destination, so that the
destination holds the old or the new output at every instant and a failure leaves the old
one as it was. A marker file (`MARKER`) names every file flashsim wrote; an existing folder
is replaced only if it is empty or a flashsim output holding nothing else, unless `force`.
Temporary folders of killed runs are removed by the next run to the same destination.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MARKER = ".flashsim-output"
FORMAT = "flashsim-output"
VERSION = 1
_TMP = ".{name}.tmp-"


class OutputFolderError(Exception):
    """The destination cannot be used or written: the message names it, says why and what to
    do, and nothing at the destination has changed."""


def check_destination(out: str | os.PathLike[str], force: bool = False) -> Path:
    """The real path `out` names, if flashsim may replace it; else OutputFolderError.
    Called before any work starts, and again just before the swap."""
    shown = os.fspath(out) or "."
    if os.path.islink(out):
        # Replacing the link would leave its target behind; writing through it is what
        # `--dump` must never do. The user says which folder they mean.
        raise OutputFolderError(
            f"{shown}: is a symbolic link; give the folder it points to "
            f"({os.path.realpath(out)}) or another folder"
        )
    target = Path(os.path.realpath(out))
    if target.parent == target:
        raise OutputFolderError(f"{shown}: the root folder cannot be an output folder")
    try:
        here = Path(os.path.realpath(os.getcwd()))
    except OSError:  # the working folder was removed: nothing to protect there
        here = None
    if here is not None and (here == target or target in here.parents):
        raise OutputFolderError(
            f"{shown}: is the current folder or contains it; flashsim replaces the whole "
            f"output folder, so give a new folder (e.g. {os.path.join(shown, 'out')})"
        )
    if target.exists() and not target.is_dir():
        raise OutputFolderError(f"{shown}: is a file, not a folder; give a folder name")
    if target.is_dir() and not force:
        try:
            reason = _not_replaceable(target)
        except OSError as error:
            raise OutputFolderError(f"{shown}: cannot read the folder: {error}") from None
        if reason:
            raise OutputFolderError(
                f"{shown}: {reason}; nothing was written. Give a new or empty folder, or "
                "--force to replace it and everything in it"
            )
    return target


@contextmanager
def output_folder(out: str | os.PathLike[str], command: str, force: bool = False) -> Iterator[Path]:
    """Yield a fresh, empty folder to write the output into; when the block ends normally,
    mark it as `command`'s output, fsync it and swap it into `out`. If the block raises, the
    folder is removed and `out` is untouched; an OSError becomes an OutputFolderError."""
    shown = os.fspath(out) or "."
    target = check_destination(out, force)
    started = time.time()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale(target, started)
        build = _fresh_folder(target)
    except OSError as error:
        raise OutputFolderError(f"{shown}: cannot create the output folder: {error}") from None
    try:
        yield build
        _write_marker(build, command)
        _sync_tree(build)
        check_destination(out, force)  # it may have changed while the work ran
        _swap_into_place(build, target)
    except OSError as error:
        shutil.rmtree(build, ignore_errors=True)
        raise OutputFolderError(
            f"{shown}: cannot write the output ({error}); the folder was left as it was"
        ) from None
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise


def _not_replaceable(folder: Path) -> str | None:
    """Why `folder` is not flashsim's to replace, or None (empty, or a flashsim output that
    holds only the files its marker lists)."""
    if not any(folder.iterdir()):
        return None
    try:
        fd = os.open(folder / MARKER, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as handle:
            info = json.loads(handle.read(1 << 24))
        listed = set(info["files"]) if info.get("format") == FORMAT else None
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        listed = None
    if listed is None:
        return f"is not empty and is not a flashsim output (it has no {MARKER} file)"
    extra = sorted(set(_files(folder)) - listed - {MARKER})
    if extra:
        return (
            f"is a flashsim output, but holds {len(extra)} file(s) flashsim did not write "
            f"(the first: {extra[0]})"
        )
    return None


def _files(folder: Path, prefix: str = "") -> Iterator[str]:
    """The relative paths of everything in `folder` but folders, never following a link."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield from _files(Path(entry.path), f"{prefix}{entry.name}/")
            else:
                yield prefix + entry.name


def _fresh_folder(target: Path) -> Path:
    """A new folder beside `target` named after it and this process (so that a later run can
    tell a live build from a killed one); mode 0777 less the umask, like any new folder."""
    while True:
        name = f"{_TMP.format(name=target.name)}{os.getpid()}-{secrets.token_hex(4)}"
        path = target.parent / name
        try:
            os.mkdir(path, 0o777)
        except FileExistsError:
            continue
        return path


def _remove_stale(target: Path, started: float) -> None:
    """Remove the temporary folders of `target` left by runs that were killed: older than
    this run and named after a process that no longer exists."""
    pattern = re.compile(re.escape(_TMP.format(name=target.name)) + r"(\d+)-(?:[0-9a-f]{8}|old)")
    with os.scandir(target.parent) as entries:
        stale = [
            Path(e.path)
            for e in entries
            if (match := pattern.fullmatch(e.name))
            and e.is_dir(follow_symlinks=False)
            and e.stat(follow_symlinks=False).st_mtime < started
            and not _alive(int(match.group(1)))
        ]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if not 0 < pid < 1 << 22:  # 0 would signal our own process group
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, owned by someone else
        return True
    return True


def _write_marker(build: Path, command: str) -> None:
    # Deterministic content (no time, no pid): equal runs give byte-identical folders.
    info = {
        "format": FORMAT,
        "version": VERSION,
        "command": command,
        "files": sorted(_files(build)),
    }
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    with os.fdopen(os.open(build / MARKER, flags, 0o666), "w", encoding="utf-8") as out:
        out.write(json.dumps(info, indent=1) + "\n")


def _sync_tree(folder: Path) -> None:
    """fsync every file and folder under `folder`, the deepest first."""
    for root, _dirs, files in os.walk(folder, topdown=False):
        for name in files:
            _fsync(os.path.join(root, name), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        _fsync(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))


def _fsync(path: str, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap_into_place(build: Path, target: Path) -> None:
    """Make `build` the folder at `target`; the old `target`, if any, is deleted afterwards.

    An absent target is a plain rename. An existing one is swapped with `build` in one step
    by Linux's renameat2(RENAME_EXCHANGE), so `target` never stops existing: renaming a folder
    onto a non-empty one fails, and moving the old one aside first would leave a moment with
    no output. Where the exchange is not available (another system, a file system without
    it) the fallback is the two renames, old aside then new in, with that short gap."""
    if not target.exists():
        os.rename(build, target)
    elif _exchange(build, target):
        shutil.rmtree(build)  # now the old output
    else:
        aside = target.parent / f"{_TMP.format(name=target.name)}{os.getpid()}-old"
        os.rename(target, aside)
        try:
            os.rename(build, target)
        except OSError:
            os.rename(aside, target)
            raise
        shutil.rmtree(aside)
    _fsync(str(target.parent), os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap the paths `a` and `b` atomically; False if this system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    done = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), os.fspath(b))


#: What a figure file named on a command line may be (`flashsim.sim.figure_files`).
FIGURE_SUFFIXES = (".png", ".svg", ".pdf")


def file_refusal(path: str | os.PathLike[str], suffixes: tuple[str, ...] = ()) -> str | None:
    """Why the output file `path` cannot be written (None: it may be), told before the work
    that makes it: a suffix not in `suffixes` (if given), a folder, a folder that does not
    exist or cannot be written. (`write_bytes` still reports what only writing tells.)"""
    target = Path(path)
    if suffixes and target.suffix.lower() not in suffixes:
        return f"{target}: must end in {', '.join(suffixes)}"
    if target.is_dir():
        return f"{target}: is a folder"
    if not target.parent.is_dir():
        return f"{target}: folder {target.parent} does not exist"
    if not os.access(target.parent, os.W_OK | os.X_OK):
        return f"{target}: folder {target.parent} cannot be written"
    return None


def write_file(path: str | os.PathLike[str], text: str) -> Path:
    """`write_bytes` of `text` in UTF-8."""
    return write_bytes(path, text.encode("utf-8"))


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write one file whole: a temporary file beside it, fsynced, then renamed over `path`,
    so `path` holds the old or the new bytes at every instant. OutputFolderError if it is a
    folder, or its folder does not exist or cannot be written (nothing changed)."""
    target = Path(path)
    refused = file_refusal(target)
    if refused is not None:
        raise OutputFolderError(refused)
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as error:
        raise OutputFolderError(f"{target}: cannot write: {error.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise OutputFolderError(f"{target}: cannot write: {error.strerror}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
