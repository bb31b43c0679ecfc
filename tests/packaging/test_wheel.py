"""The wheel, installed into a fresh venv, works from an empty folder (issue 9, deliverable 2).

The wheel is FLASHSIM_WHEEL when set (.ci/run builds it once), else built here from a copy of
the tree. Each command runs from its own empty folder with the venv's interpreter only, so what
it finds is what the wheel installed. Each command's wall time is printed (`pytest -rP`).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from pkg_layout import Layout

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 600

pytestmark = pytest.mark.wheel

# what a copy of the tree to build from leaves out
NOT_BUILT_FROM = shutil.ignore_patterns(
    ".git", "__pycache__", "*.egg-info", "build", "dist", ".venv", "out", ".*cache", ".hypothesis"
)


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    start = time.perf_counter()
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )
    print(f"{time.perf_counter() - start:6.1f} s  {shlex.join(args)}  (exit {done.returncode})")
    return done


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, (
        f"{shlex.join(done.args)}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("FLASHSIM_WHEEL")
    if given:
        return Path(given)
    work = tmp_path_factory.mktemp("build")
    src = work / "src"
    shutil.copytree(ROOT, src, ignore=NOT_BUILT_FROM)  # the worktree gets no build/ or egg-info
    args = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir"]
    ok(timed([*args, str(work / "dist"), str(src)], work, dict(os.environ)))
    (built,) = (work / "dist").glob("flashsim-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A fresh venv with the wheel and its dependencies (pip's cache is used)."""
    where = tmp_path_factory.mktemp("venv") / "venv"
    env = clean_env()
    ok(timed([sys.executable, "-m", "venv", str(where)], where.parent, env))
    python = where / "bin" / "python"
    ok(timed([str(python), "-m", "pip", "install", "--quiet", str(wheel)], where.parent, env))
    purelib = ok(
        timed(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            where.parent,
            env,
        )
    )
    return {"bin": where / "bin", "site": Path(purelib.strip())}


def clean_env(bin_dir: Path | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTHONSAFEPATH")
    }
    if bin_dir is not None:
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(bin_dir.parent)
    return env


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


def flashsim(venv: dict[str, Path], empty: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert not any(empty.iterdir())
    return timed([str(venv["bin"] / "flashsim"), *args], empty, clean_env(venv["bin"]))


def test_the_wheel_holds_every_module_and_bundled_file_and_no_other_module(wheel):
    layout = Layout.read(ROOT)
    modules = {
        "/".join(name.split(".") + (["__init__"] if path.stem == "__init__" else [])) + ".py"
        for name, path in layout.modules().items()
    }
    data = set()
    for package, patterns in layout.package_data.items():
        folder = layout.folder(package)
        for pattern in patterns:
            for path in folder.glob(pattern):
                data.add("/".join([*package.split("."), *path.relative_to(folder).parts]))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = sorted((modules | data) - names)
    assert not missing, f"{wheel.name} lacks: {missing}"
    # a module the tree no longer has comes from a stale build/ folder (setuptools reuses it)
    stale = sorted(n for n in names if n.endswith(".py") and n not in modules)
    assert not stale, f"{wheel.name} has modules the tree does not: {stale}"
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"flashsim"}, f"{wheel.name} installs top-level {sorted(tops)}"


def test_only_flashsim_lands_in_site_packages(venv):
    site = venv["site"]
    for name in ("models", "sim"):
        assert not (site / name).exists() and not (site / f"{name}.py").exists(), site / name
    (record,) = site.glob("flashsim-*.dist-info/RECORD")
    tops = set()
    for line in record.read_text().splitlines():
        first = Path(line.rsplit(",", 2)[0]).parts[0]
        if not first.endswith(".dist-info") and first != "..":  # ../../bin/flashsim: the script
            tops.add(first)
    assert tops == {"flashsim"}, f"the wheel installed top-level {sorted(tops)}"


def test_version(venv, empty):
    version = Layout.read(ROOT).version
    assert ok(flashsim(venv, empty, "--version")).strip() == f"flashsim {version}"
    python = venv["bin"] / "python"
    done = timed([str(python), "-m", "flashsim", "--version"], empty, clean_env(venv["bin"]))
    assert ok(done).strip() == f"flashsim {version}"


def test_check_all_mutants_kills_every_mutant(venv, empty):
    names = [
        line.split(":")[0]
        for line in ok(flashsim(venv, empty, "check", "--list-mutants")).splitlines()
    ]
    assert names
    out = ok(flashsim(venv, empty, "check", "--all-mutants")).splitlines()
    correct = [line for line in out if line.startswith("correct model on ")]
    configs = sorted((ROOT / "scenarios" / "check").glob("*.toml"))
    assert len(correct) == len(configs) > 0, "\n".join(out)
    for line in correct:
        assert "properties hold" in line, line
        assert str(venv["site"]) in line, f"not the installed configuration: {line}"
    (at,) = [i for i, line in enumerate(out) if line.split()[:2] == ["mutant", "killed"]]
    column = out[at].split().index("killed")
    rows = {line.split()[0]: line.split()[column] for line in out[at + 1 : at + 1 + len(names)]}
    assert sorted(rows) == sorted(names), "\n".join(out)
    alive = [name for name, status in rows.items() if status != "killed"]
    assert not alive, "\n".join(out)


def test_a_configuration_not_found_is_said_so(venv, empty):
    done = flashsim(venv, empty, "check", "--all-mutants", "no_such_config.toml")
    assert done.returncode == 2, done
    assert "no_such_config.toml" in done.stderr, done.stderr
    assert "ALIVE" not in done.stdout, done.stdout


def test_bench_quick_prints_ratios(venv, empty):
    out = ok(flashsim(venv, empty, "bench", "--quick"))
    ratios = [line for line in out.splitlines() if re.search(r"\bratio\s+\d+(\.\d+)?x", line)]
    assert ratios, out


def readme_run_command() -> list[str]:
    """The `flashsim ...` part of the first command line of README.md's first code block."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"^```[^\n]*\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    assert block, "README.md has no code block"
    first = next(line for line in block.group(1).splitlines() if line.strip())
    for part in first.split("&&"):
        args = shlex.split(part)
        if args and Path(args[0]).name == "flashsim":
            return args[1:]
    raise AssertionError(f"no flashsim command in README.md's first command: {first}")


def test_readme_first_command(venv, empty):
    args = readme_run_command()
    assert args[0] == "run" and "--out" in args, args
    ok(flashsim(venv, empty, *args))
    summary = empty / args[args.index("--out") + 1] / "summary.json"
    assert summary.is_file(), f"{shlex.join(args)} wrote no {summary}"
    assert json.loads(summary.read_text())
