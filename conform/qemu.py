"""The QEMU side of a conformance run: each volume an image file under a format node of a
`qemu-storage-daemon`, exported over NBD, and each relationship a copy-before-write filter
with a snapshot-access node (and a backup job for background copy); the mapping and its
limits are `flashsim.conform.mapping`.

Node, export and job names are derived from counters, never from the op log's names, which
may hold any characters.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field

from flashsim.conform.daemon import Daemon
from flashsim.conform.nbd import NbdClient, NbdError
from flashsim.conform.qmp import QmpError
from flashsim.models.ops import Create, Establish, EstablishGroup, Op, Read, Write
from flashsim.models.state.store import State

#: How long a background copy may take to finish once flashsim's copy is complete.
JOB_TIMEOUT_S = 120.0


class QemuSideError(Exception):
    """QEMU refused a step the mapping allows, or broke: a finding about the driver or QEMU,
    reported with the op that caused it."""


@dataclass
class _Volume:
    node: str
    size: int
    cluster: int
    export: str | None = None  # the export's id (and name)
    client: NbdClient | None = None
    top: str = ""  # the node the export serves
    writable: bool = True


@dataclass
class _Relationship:
    source: str
    target: str
    cbw: str
    access: str
    job: str | None = None
    finished: bool = field(default=False)


class QemuSide:
    """The volumes and relationships of one op log on a running daemon."""

    def __init__(
        self, daemon: Daemon, image_format: str = "raw", cluster_reads: bool = False
    ) -> None:
        self.daemon = daemon
        self.cluster_reads = cluster_reads
        self.qmp = daemon.qmp
        self.format = image_format
        self.volumes: dict[str, _Volume] = {}
        self.relationships: dict[str, _Relationship] = {}
        self._count = 0

    def _name(self, kind: str) -> str:
        self._count += 1
        return f"{kind}{self._count}"

    # -- exports ---------------------------------------------------------------------------
    def _unexport(self, vol: _Volume) -> None:
        if vol.client is not None:
            vol.client.close()
            vol.client = None
        if vol.export is not None:
            # hard: our client has hung up, but the server may not have seen it yet
            self.qmp.execute("block-export-del", id=vol.export, mode="hard")
            self.qmp.wait_event("BLOCK_EXPORT_DELETED", id=vol.export)
            vol.export = None

    def _export(self, vol: _Volume, node: str, writable: bool) -> None:
        self._unexport(vol)
        export = self._name("e")
        self.qmp.execute(
            "block-export-add",
            type="nbd",
            id=export,
            name=export,
            writable=writable,
            **{"node-name": node},
        )
        vol.export, vol.top, vol.writable = export, node, writable

    def _client(self, vol: _Volume) -> NbdClient:
        if vol.client is None:
            assert vol.export is not None
            vol.client = NbdClient.connect_unix(self.daemon.nbd_socket, vol.export)
            if vol.client.size != vol.size:
                raise QemuSideError(
                    f"export of {vol.node} is {vol.client.size} bytes, not {vol.size}"
                )
        return vol.client

    # -- the operations --------------------------------------------------------------------
    def create(self, volume: str, tracks: int, track_size: int) -> None:
        node = self._name("v")
        path = self.daemon.folder / f"{node}.{self.format}"
        size = tracks * track_size
        if self.format == "raw":
            with open(path, "xb") as image:
                image.truncate(size)
        else:
            result = subprocess.run(
                [
                    "qemu-img",
                    "create",
                    "-q",
                    "-f",
                    "qcow2",
                    "-o",
                    f"cluster_size={track_size}",
                    str(path),
                    str(size),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode:
                raise QemuSideError(f"qemu-img create: {result.stderr.strip()}")
        self.qmp.execute(
            "blockdev-add",
            driver=self.format,
            file={"driver": "file", "filename": str(path)},
            **{"node-name": node},
        )
        vol = _Volume(node, size, track_size)
        self.volumes[volume] = vol
        self._export(vol, node, writable=True)

    def write(self, volume: str, offset: int, data: bytes) -> None:
        self._client(self.volumes[volume]).write(offset, data)

    def read(self, volume: str, offset: int, length: int) -> bytes:
        vol = self.volumes[volume]
        client = self._client(vol)
        if not (self.cluster_reads and not vol.writable):
            return client.read(offset, length)
        # One request per cluster of the point-in-time image: QEMU before 8.0 reads a request
        # that starts on a copied cluster and runs into an uncopied one from the source
        # (docs/conformance.md, known differences).
        parts = []
        end = offset + length
        while offset < end:
            stop = min(end, (offset // vol.cluster + 1) * vol.cluster)
            parts.append(client.read(offset, stop - offset))
            offset = stop
        return b"".join(parts)

    def establish(self, spec: Establish) -> None:
        source, target = self.volumes[spec.source], self.volumes[spec.target]
        for vol in (source, target):
            if vol.client is not None:
                vol.client.flush()
        rel = _Relationship(spec.source, spec.target, self._name("cbw"), self._name("snap"))
        self._unexport(source)
        self._unexport(target)
        self.qmp.execute(
            "blockdev-add",
            driver="copy-before-write",
            file=source.node,
            target=target.node,
            **{"node-name": rel.cbw},
        )
        self.qmp.execute(
            "blockdev-add", driver="snapshot-access", file=rel.cbw, **{"node-name": rel.access}
        )
        self.relationships[spec.id] = rel
        self._export(source, rel.cbw, writable=True)
        self._export(target, rel.access, writable=False)
        if spec.background_copy:
            rel.job = self._name("job")
            self.qmp.execute(
                "blockdev-backup",
                device=rel.access,
                target=target.node,
                sync="full",
                **{"job-id": rel.job},
            )

    def end(self, rel_id: str) -> None:
        """Remove relationship `rel_id`: wait for its backup job (flashsim's copy is complete),
        then the snapshot-access node and the filter; both volumes exported plain again."""
        rel = self.relationships.pop(rel_id)
        if rel.job is not None:
            event = self.qmp.wait_event(
                "BLOCK_JOB_COMPLETED", timeout_s=JOB_TIMEOUT_S, device=rel.job
            )
            if event.get("data", {}).get("error"):
                raise QemuSideError(f"backup job of {rel_id} failed: {event['data']['error']}")
        self._teardown(rel)

    def _teardown(self, rel: _Relationship) -> None:
        source, target = self.volumes[rel.source], self.volumes[rel.target]
        self._unexport(source)
        self._unexport(target)
        self.qmp.execute("blockdev-del", **{"node-name": rel.access})
        self.qmp.execute("blockdev-del", **{"node-name": rel.cbw})
        self._export(source, source.node, writable=True)
        self._export(target, target.node, writable=True)

    def run(self, op: Op, model: State) -> bytes | None:
        """`op`, which flashsim has just run (`model` is its state after it), then the
        relationships brought level with flashsim's."""
        data: bytes | None = None
        match op:
            case Create(volume, tracks, track_size):
                self.create(volume, tracks, track_size)
            case Write(volume, offset, payload):
                self.write(volume, offset, payload)
            case Read(volume, offset, length):
                data = self.read(volume, offset, length)
            case Establish():
                self.establish(op)
            case EstablishGroup(members):
                for member in members:
                    self.establish(member)
            case _:
                pass  # background_copy, withdraw: the relationship ends in settle if it ended
        self.settle(model)
        return data

    def settle(self, model: State) -> None:
        """End every relationship that flashsim's state no longer holds (a withdraw, or a
        background copy complete by rule 5)."""
        for rel_id in [r for r in self.relationships if r not in model.relationships]:
            self.end(rel_id)

    def close(self) -> None:
        """Close the NBD connections (the daemon itself is stopped by its owner)."""
        for vol in self.volumes.values():
            if vol.client is not None:
                vol.client.close()
                vol.client = None


#: What the QEMU side raises for a step QEMU refused or a link that broke: findings, reported
#: as the line's difference.
FAILURES: tuple[type[BaseException], ...] = (QemuSideError, QmpError, NbdError, OSError)
