"""What pyproject.toml lists is what the folders hold: the wheel cannot miss a subpackage
or a bundled file."""

from __future__ import annotations

from pathlib import Path

from pkg_layout import Layout

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "scenarios"  # the bundled scenarios, check configurations and op logs


def test_every_package_folder_is_listed_and_every_listed_package_is_a_folder():
    layout = Layout.read(ROOT)
    folders = layout.package_folders()
    unlisted = sorted(
        f"{name} ({folders[name].relative_to(ROOT)})"
        for name in set(folders) - set(layout.packages)
    )
    absent = sorted(
        f"{name} (no {layout.folder(name).relative_to(ROOT)}/__init__.py)"
        for name in set(layout.packages) - set(folders)
    )
    assert not unlisted, (
        f"folders with an __init__.py missing from [tool.setuptools] packages: {unlisted}"
    )
    assert not absent, f"[tool.setuptools] packages without a folder: {absent}"


def owner(layout: Layout, path: Path) -> str:
    """The listed package whose folder holds `path` most closely."""
    folders = {layout.folder(p): p for p in layout.packages}
    return next(folders[f] for f in path.parents if f in folders)


def test_every_bundled_file_is_package_data():
    layout = Layout.read(ROOT)
    assert DATA in layout.source_roots(), f"{DATA.name}/ is not installed (no package-dir entry)"
    files = [
        p
        for p in sorted(DATA.rglob("*"))
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    ]
    assert files
    missed = []
    for path in files:
        package = owner(layout, path)
        folder = layout.folder(package)
        patterns = layout.package_data.get(package, []) + layout.package_data.get("*", [])
        patterns += layout.package_data.get("", [])
        if not any(path in folder.glob(pattern) for pattern in patterns):
            missed.append(f"{path.relative_to(ROOT)} (package {package}: {patterns})")
    assert not missed, "files not matched by [tool.setuptools.package-data]:\n" + "\n".join(missed)
