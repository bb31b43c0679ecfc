"""Each notebook is executed with a real Jupyter kernel (nbclient, as Jupyter runs it), so it
cannot rot and must show its figures there; none may be committed with outputs."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_at_least_two_notebooks() -> None:
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_in_a_kernel_and_displays_images(path: Path) -> None:
    raw = json.loads(path.read_text())
    cells = [c for c in raw["cells"] if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in cells)
    notebook = nbformat.reads(path.read_text(), as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT / "notebooks")}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, if one fails
    images = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "display_data" and "image/png" in output.get("data", {})
    ]
    # Under Jupyter's inline backend each figure is a display_data PNG: a module that chose
    # the Agg backend for the process would leave none.
    assert len(images) >= 2, f"{path.name}: {len(images)} images displayed"
