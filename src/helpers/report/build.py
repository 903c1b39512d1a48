"""Executing the study notebooks with papermill and building the report from them (``make report``)."""
from __future__ import annotations

import datetime as _dt
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any, Sequence

import nbformat
import papermill
from tqdm import tqdm

from .. import paths
from ..run import study_tables
from .facts import build_command, display_path, study_facts
from .html import assemble, cell_source
from .explorer import write_explorer
from .keyfindings import key_findings_html

NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
DEFAULT_SEED = 20261130


def study_notebooks(folder: Path = paths.NOTEBOOKS) -> list[Path]:
    """The numbered notebooks (``NN_name.ipynb``) in reading order."""
    return sorted(Path(folder).glob(NOTEBOOK_GLOB))


def _notebook_param(path: Path, cwd: Path) -> str:
    """Paths handed to a notebook: relative to its working folder when inside the repo, else absolute."""
    path = Path(path).resolve()
    try:
        path.relative_to(paths.ROOT)
    except ValueError:
        return path.as_posix()
    return Path(os.path.relpath(path, Path(cwd).resolve())).as_posix()


def missing_parameters(notebook: Path, parameters: dict[str, Any]) -> list[str]:
    """Parameter names the notebook's ``parameters`` cell does not assign (papermill would inject them blind)."""
    nb = nbformat.read(str(notebook), as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    source = "\n".join(cell_source(c) for c in cells)
    return [name for name in parameters if not re.search(rf"^{re.escape(name)}\s*(:[^=]*)?=", source, flags=re.M)]


OPTIONAL_PARAMETERS = ("GOLD",)
"""Parameters handed only to the notebooks whose ``parameters`` cell assigns them (a hand-coded sheet)."""


def notebook_parameters(notebook: Path, parameters: dict[str, Any]) -> dict[str, Any]:
    """The ``parameters`` for one notebook: the optional ones only where its parameters cell names them."""
    absent = set(missing_parameters(Path(notebook), parameters)) & set(OPTIONAL_PARAMETERS)
    return {k: v for k, v in parameters.items() if k not in absent}


def execute_notebooks(
    notebooks: Sequence[Path],
    executed: Path,
    parameters: dict[str, Any],
    cwd: Path | None = None,
    progress: bool = True,
) -> list[Path]:
    """Run each notebook with papermill (kernel ``python3`` = this interpreter) into ``executed``."""
    executed = Path(executed)
    executed.mkdir(parents=True, exist_ok=True)
    for nb in notebooks:
        missing = missing_parameters(Path(nb), notebook_parameters(Path(nb), parameters))
        if missing:
            print(f"warning: {Path(nb).name} has no parameters-cell assignment for {', '.join(missing)}",
                  file=sys.stderr)
    # papermill's own parameter parser trips on comments containing '=' and then warns about
    # "unknown" parameters that are in fact set; the check above replaces those warnings.
    pm_logger = logging.getLogger("papermill")
    level = pm_logger.level
    pm_logger.setLevel(logging.ERROR)
    try:
        return _run_all(notebooks, executed, parameters, cwd, progress)
    finally:
        pm_logger.setLevel(level)


def _run_all(notebooks: Sequence[Path], executed: Path, parameters: dict[str, Any], cwd: Path | None,
             progress: bool) -> list[Path]:
    done = []
    bar = tqdm(list(notebooks), desc="notebooks", unit="nb", file=sys.stderr, disable=not progress)
    for nb in bar:
        bar.set_postfix_str(Path(nb).name)
        target = executed / Path(nb).name
        try:
            papermill.execute_notebook(
                str(nb), str(target), parameters=notebook_parameters(Path(nb), parameters), kernel_name="python3",
                cwd=str(cwd or Path(nb).parent), progress_bar=False, log_output=False,
            )
        except papermill.PapermillExecutionError as exc:
            bar.close()
            raise RuntimeError(f"notebook {Path(nb).name} failed ({exc.ename}: {exc.evalue}); "
                               f"the partly executed copy is {target}") from exc
        done.append(target)
    bar.close()
    return done


def build_report(
    corpus: str | Path = paths.RAW,
    out: str | Path = paths.REPORTS,
    lexicons: str | Path = paths.LEXICONS,
    seed: int = DEFAULT_SEED,
    notebooks: str | Path = paths.NOTEBOOKS,
    progress: bool = True,
    source: str | Path | None = None,
    options: dict[str, str | None] | None = None,
    gold: str | Path | None = None,
) -> Path:
    """Execute the numbered notebooks on ``corpus`` into ``out/executed`` and write ``out/study.html``.

    ``source``: the input the user named when ``corpus`` is the run it was read through (``prepare_corpus``),
    with its table ``options``; ``gold``: a hand-coded sheet from ``helpers sample`` (Key findings, notebook 06)."""
    corpus, out, lexicons, folder = Path(corpus), Path(out), Path(lexicons), Path(notebooks)
    if not corpus.exists():
        raise FileNotFoundError(f"corpus not found: {corpus}")
    out.mkdir(parents=True, exist_ok=True)
    found = study_notebooks(folder)
    parameters = {"CORPUS": _notebook_param(corpus, folder), "LEXICONS": _notebook_param(lexicons, folder),
                  "OUT": _notebook_param(out, folder), "SEED": int(seed)}
    if gold:
        parameters["GOLD"] = _notebook_param(Path(gold), folder)
    executed = execute_notebooks(found, out / "executed", parameters, cwd=folder, progress=progress)
    facts = study_facts(corpus, lexicons)
    facts["documents"].to_csv(out / "documents.csv", index=False)  # Appendix A in full
    loaded = [(p.name, nbformat.read(str(p), as_version=4)) for p in executed]
    built_at = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    shown = Path(source) if source else corpus
    command = build_command(shown, out, lexicons, seed, options=options, gold=Path(gold) if gold else None)
    label = display_path(shown) + (f" (read through the run {display_path(corpus)})" if shown != corpus else "")
    key = key_findings_html(corpus, lexicons, seed=seed, gold=gold)
    explorer_tables = study_tables(corpus, lexicons, tokens=False, tables=["documents", "sentences", "mentions", "flags"])
    explorer = write_explorer(explorer_tables, out / "explorer.html", display_path(shown), seed=seed)
    key += (f'<p class="method-note">Every coded sentence, with its cues highlighted and filters for tactic, '
            f'stance, stage, rule, genre and document: <a href="{explorer.name}">{explorer.name}</a>, beside this '
            "report.</p>\n")
    page = assemble(loaded, facts, lexicons, label, command, built_at, key_findings=key)
    target = out / "study.html"
    target.write_text(page, encoding="utf-8")
    return target

