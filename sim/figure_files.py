"""Figures written to files without choosing a global matplotlib backend: each figure gets
its own Agg canvas, so importing this (or drawing) never changes what pyplot shows in a
notebook. Files carry fixed metadata, so equal figures give byte-identical PNG and SVG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


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


def save(figure: Figure, stem: Path) -> list[Path]:
    """Write `stem`.png and `stem`.svg reproducibly."""
    return [save_file(figure, stem.with_suffix(s)) for s in (".png", ".svg")]
