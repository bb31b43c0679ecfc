"""Figures written to files without choosing a global matplotlib backend: each figure gets
its own Agg canvas, so importing this (or drawing) never changes what pyplot shows in a
notebook. Files carry fixed metadata, so equal figures give byte-identical PNG and SVG."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from flashsim.models.output_folder import (
    FIGURE_SUFFIXES,
    OutputFolderError,
    file_refusal,
    write_bytes,
)


def new_figure(**options: Any) -> Figure:
    """A figure with an Agg canvas of its own (`options` as for `Figure`)."""
    figure = Figure(**options)
    FigureCanvasAgg(figure)
    return figure


def save_file(figure: Figure, path: str | Path, dpi: int = 100) -> Path:
    """Write `figure` to `path` (PNG or SVG by its suffix) with fixed metadata."""
    path = Path(path)
    with matplotlib.rc_context({"svg.hashsalt": "flashsim", "svg.fonttype": "path"}):
        if path.suffix == ".svg":
            figure.savefig(path, metadata={"Date": None, "Creator": None})
        else:
            figure.savefig(path, dpi=dpi, metadata={"Software": None})
    return path


def write_figure(figure: Figure, path: str | Path, dpi: int = 100) -> Path:
    """Write `figure` as one file named on a command line (PNG, SVG or PDF by its suffix):
    drawn first, then written whole (`write_bytes`), so a failed write leaves no part of a
    picture and the old file, if any, stays. OutputFolderError if it cannot be written."""
    path = Path(path)
    refused = file_refusal(path, FIGURE_SUFFIXES)
    if refused is not None:
        raise OutputFolderError(refused)
    kind = path.suffix.lower().lstrip(".")
    buffer = io.BytesIO()
    metadata = {
        "png": {"Software": None},
        "svg": {"Date": None, "Creator": None},
        "pdf": {"CreationDate": None, "Creator": None, "Producer": None},
    }
    with matplotlib.rc_context({"svg.hashsalt": "flashsim", "svg.fonttype": "path"}):
        figure.savefig(buffer, format=kind, dpi=dpi, metadata=metadata.get(kind))
    return write_bytes(path, buffer.getvalue())


def save(figure: Figure, stem: Path) -> list[Path]:
    """Write `stem`.png and `stem`.svg reproducibly."""
    return [save_file(figure, stem.with_suffix(s)) for s in (".png", ".svg")]
