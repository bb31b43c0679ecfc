"""`qemu-storage-daemon` as a child process: started in a private temporary folder with its
QMP monitor and NBD server on UNIX sockets there, killed and the folder removed on every exit
path (a `with` block), and killed by the kernel if flashsim dies first (PR_SET_PDEATHSIG)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from flashsim.conform.qmp import QmpClient, QmpError

DAEMON = "qemu-storage-daemon"
#: How long the daemon may take to open its monitor socket and greet.
START_TIMEOUT_S = 20.0
#: How long one connection waits for the greeting before it is tried again.
GREETING_TIMEOUT_S = 1.0
#: How long a QMP command may take.
COMMAND_TIMEOUT_S = 30.0


class QemuUnavailable(Exception):
    """qemu-storage-daemon cannot be found or started (the message says why)."""


def find_daemon() -> str | None:
    """The path of qemu-storage-daemon, or None."""
    return shutil.which(DAEMON)


#: Held back while the daemon is forked: a handler that raises (Ctrl-C, SIGTERM) would run in
#: an at-fork hook of the parent, where Python ignores the exception.
_HELD = {signal.SIGINT, signal.SIGTERM}


def die_with_parent() -> None:
    """A child's preexec_fn: signals unblocked, killed by the kernel when flashsim dies."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


def hold_signals() -> set[int | signal.Signals]:
    """Block SIGINT and SIGTERM (to fork a child with `die_with_parent`); returns the mask to
    restore with `signal.pthread_sigmask(signal.SIG_SETMASK, mask)`."""
    return signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)


def _raise_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C while the block runs, so the daemons and other children
    are stopped and their folders removed (flashsim then exits 130)."""
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class Daemon:
    """A running qemu-storage-daemon: `qmp` its monitor, `folder` its private folder (images
    go there too), `nbd_socket` the NBD server's socket once `start_nbd` ran."""

    def __init__(self, folder: Path, process: subprocess.Popen[bytes], qmp: QmpClient) -> None:
        self.folder = folder
        self.process = process
        self.qmp = qmp
        self.nbd_socket = str(folder / "nbd.sock")
        self.version = "{major}.{minor}.{micro}".format(
            **{"major": 0, "minor": 0, "micro": 0, **qmp.version}
        )

    def start_nbd(self) -> None:
        self.qmp.execute(
            "nbd-server-start", addr={"type": "unix", "data": {"path": self.nbd_socket}}
        )


@contextlib.contextmanager
def running_daemon() -> Iterator[Daemon]:
    """A started daemon (`Daemon`), stopped and its folder removed when the block ends."""
    binary = find_daemon()
    if binary is None:
        raise QemuUnavailable(
            f"{DAEMON} not found on PATH (Debian: apt-get install qemu-utils qemu-system-common)"
        )
    folder = Path(tempfile.mkdtemp(prefix="flashsim-qemu-"))
    process: subprocess.Popen[bytes] | None = None
    qmp: QmpClient | None = None
    try:
        monitor = folder / "qmp.sock"
        log = open(folder / "daemon.log", "wb")  # noqa: SIM115 - closed once the child has it
        held = hold_signals()
        try:
            process = subprocess.Popen(
                [
                    binary,
                    "--chardev",
                    f"socket,id=qmp0,path={monitor},server=on,wait=off",
                    "--monitor",
                    "chardev=qmp0",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,  # noqa: PLW1509 - no threads start the daemon
                cwd=folder,
            )
        finally:
            log.close()
            signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a held signal is raised here
        deadline = time.monotonic() + START_TIMEOUT_S
        last = "the monitor socket never appeared"
        while True:
            if process.poll() is not None:
                raise QemuUnavailable(f"{DAEMON} exited at start: {_tail(folder)}")
            if monitor.exists():
                try:
                    # A client that connects before the monitor is attached to the socket is
                    # accepted but never greeted: hang up and connect again.
                    qmp = QmpClient.connect_unix(str(monitor), timeout_s=GREETING_TIMEOUT_S)
                    qmp.set_timeout(COMMAND_TIMEOUT_S)
                    break
                except (OSError, QmpError) as error:
                    last = f"{type(error).__name__}: {error}"
            if time.monotonic() > deadline:
                raise QemuUnavailable(
                    f"{DAEMON} did not open its monitor in {START_TIMEOUT_S} s ({last}; "
                    f"its output: {_tail(folder)})"
                )
            time.sleep(0.02)
        daemon = Daemon(folder, process, qmp)
        daemon.start_nbd()
        yield daemon
    finally:
        if qmp is not None:
            with contextlib.suppress(QmpError, OSError):
                qmp.execute("quit")
            qmp.close()
        if process is not None:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _tail(folder: Path) -> str:
    try:
        text = (folder / "daemon.log").read_text(errors="replace")
    except OSError:
        return "(no log)"
    return " ".join(text.split())[-300:] or "(no output)"
