"""`flashsim check --export-tla CONFIG [--out FILE.tla]`: the explored state graph as a TLA+
module (models/check/tla.py), printed or written whole beside a TLC configuration."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flashsim.models.check.config import CheckConfig
from flashsim.models.check.tla import ExportError, export_tla, module_name, tlc_config
from flashsim.models.output_folder import OutputFolderError, write_file

#: The export's own line: a file holding it may be replaced by a new export, no other file.
EXPORT_MARK = "exported by `flashsim check --export-tla`"


def _refusal(out: Path) -> str | None:
    """Why `out` may not be written (None: it may)."""
    if out.suffix != ".tla":
        return f"--out: {out}: a TLA+ module file ends in .tla"
    if module_name(out.stem) != out.stem:
        return (
            f"--out: {out}: TLC needs the file to be named as its module, and {out.stem!r} is "
            f"not a TLA+ module name (letters, digits and _, not starting with a digit)"
        )
    for path in (out, out.with_suffix(".cfg")):
        if path.is_dir():
            return f"--out: {path}: is a folder"
        if path.exists():
            head = path.read_text(encoding="utf-8", errors="replace")[:400]
            if EXPORT_MARK not in head:
                return f"--out: {path}: exists and is not a flashsim export (not replaced)"
    return None


def export(config: CheckConfig, args: argparse.Namespace) -> int:
    """Write (or print) the module; 0 done, 1 the search found a violation (the module holds
    the part explored), 2 bad input or output."""
    out = Path(args.out) if args.out else None
    if out is not None:
        refused = _refusal(out)
        if refused is not None:
            print(refused, file=sys.stderr)
            return 2
    name = out.stem if out is not None else module_name(Path(config.path).stem)
    try:
        text, result = export_tla(config, name, args.mutant)
    except ExportError as error:
        print(f"--export-tla: {error}", file=sys.stderr)
        return 2
    if out is None:
        sys.stdout.write(text)
    else:
        cfg = "\\* " + EXPORT_MARK + "\n" + tlc_config()
        try:
            write_file(out, text)
            write_file(out.with_suffix(".cfg"), cfg)
        except OutputFolderError as error:
            print(f"--out: {error}", file=sys.stderr)
            return 2
        print(f"TLA+ module {name} written to {out} (TLC configuration {out.with_suffix('.cfg')})")
    return 0 if result.counterexample is None else 1
