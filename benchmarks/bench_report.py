"""The notebooks and the report on a large corpus of distinct documents (issues 9, 20). A script, not a test.

``bench_run.py`` replicates the seed page, which after the corpus-wide near-duplicate pass leaves 13 originals:
right for throughput, useless for the notebooks, whose per-document views and counts cover originals only.
This script builds a corpus of distinct documents instead (each one 8-40 sentences of the cleaned seed, drawn
with a fixed seed: none is a near-duplicate of another), runs ``python -m helpers run`` on it (``--reuse``: keeps a
finished run of the same size), then ``python -m helpers report`` on the run folder, and prints the wall time and
peak RSS of both, and of each notebook kernel (its peak RSS and how long it lived). ``--label`` names the design
measured in ``bench_report.json`` (run the previous design's checkout of this script on the same run folder to
compare them in one session).

Usage: .venv/bin/python benchmarks/bench_report.py [--mb 100] [--workers 2] [--backend rjieba] [--reuse] [--label new]
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np

from bench_run import watched  # the same process-tree sampler as the throughput benchmark
from helpers import paths

DATA = paths.ROOT / "benchmarks" / "data"
NOTEBOOKS_ONLY = """
import sys
from pathlib import Path
from helpers import paths
from helpers.report.build import execute_notebooks, study_notebooks
corpus, out = Path(sys.argv[1]), Path(sys.argv[2])
params = {"CORPUS": str(corpus.resolve()), "LEXICONS": str(paths.LEXICONS), "OUT": str(out.resolve()), "SEED": 20261130}
execute_notebooks(study_notebooks(paths.NOTEBOOKS), out / "executed", params, cwd=paths.NOTEBOOKS, progress=False)
"""


def build_corpus(megabytes: int, seed: int = 0) -> tuple[Path, int, int]:
    """A folder of distinct documents drawn from the seed's sentences; returns (folder, files, chars)."""
    folder = DATA / f"corpus_distinct_{megabytes}mb"
    if not folder.exists():
        from helpers.run import study_tables

        sentences = study_tables(paths.RAW, tokens=False)["sentences"]["text"].tolist()
        rng = np.random.default_rng(seed)
        tmp = folder.with_suffix(".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        size, n = 0, 0
        while size < megabytes * 1_000_000:
            picked = rng.choice(len(sentences), size=int(rng.integers(8, 41)), replace=False)
            blob = "\n".join(sentences[i] for i in picked).encode("utf-8")
            (tmp / f"doc_{n:06d}.txt").write_bytes(blob)
            size += len(blob)
            n += 1
        tmp.rename(folder)
    files = sorted(folder.glob("*.txt"))
    return folder, len(files), sum(len(p.read_text(encoding="utf-8")) for p in files)


def finished(run_dir: Path) -> bool:
    """True when ``run_dir`` holds a run that completed."""
    try:
        return bool(json.loads((run_dir / "_run.json").read_text()).get("complete"))
    except (OSError, ValueError):
        return False


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--backend", default="rjieba")
    ap.add_argument("--reuse", action="store_true", help="keep a finished run of this size instead of running again")
    ap.add_argument("--label", default="current", help="the design measured, as bench_report.json records it")
    ap.add_argument("--notebooks-only", action="store_true",
                    help="execute the notebooks (as the report does) without the export that follows them")
    args = ap.parse_args()
    folder, n_files, chars = build_corpus(args.mb)
    print(f"corpus {args.mb} MB of distinct documents: {n_files:,} files, {chars:,} chars", flush=True)
    run_dir, report_dir = DATA / f"out_distinct_{args.mb}mb", DATA / f"report_distinct_{args.mb}mb_{args.label}"
    row = {"mb": args.mb, "label": args.label, "files": n_files, "chars": chars}
    if not (args.reuse and finished(run_dir)):
        shutil.rmtree(run_dir, ignore_errors=True)
        secs, peak, _ = watched([sys.executable, "-m", "helpers", "run", str(folder), "--out", str(run_dir),
                                 "--workers", str(args.workers), "--backend", args.backend], interval=0.2)
        print(f"run: {secs:.0f} s ({chars / secs:,.0f} chars/s), peak RSS {peak / 1e6:,.0f} MB", flush=True)
        row.update(run_s=secs, run_peak_gb=peak / 1e9)
    shutil.rmtree(report_dir, ignore_errors=True)
    spans: dict[int, tuple[float, float]] = {}
    cmd = [sys.executable, "-m", "helpers", "report", "--corpus", str(run_dir), "--out", str(report_dir)]
    if args.notebooks_only:  # the notebooks with the report's parameters; no facts, key findings, explorer or HTML
        cmd = [sys.executable, "-c", NOTEBOOKS_ONLY, str(run_dir), str(report_dir)]
    row["notebooks_only"] = args.notebooks_only
    secs, peak, per = watched(cmd, interval=0.2, spans=spans)
    # one kernel per notebook, in the order they started (process ids wrap around, so not by id)
    kernels = sorted(((pid, rss) for pid, (rss, label) in per.items() if "HistoryManager" in label),
                     key=lambda k: spans[k[0]][0])
    names = sorted(p.stem for p in (paths.ROOT / "notebooks").glob("[0-9]*.ipynb"))
    labels = names if len(names) == len(kernels) else [f"kernel {i + 1}" for i in range(len(kernels))]
    row.update(report_s=secs, report_peak_gb=peak / 1e9,
               kernels={name: {"peak_gb": rss / 1e9, "seconds": spans[pid][1] - spans[pid][0]}
                        for name, (pid, rss) in zip(labels, kernels)})
    others = sorted(((rss, label) for pid, (rss, label) in per.items() if pid not in dict(kernels)), reverse=True)[:3]
    row["other_processes"] = [{"peak_gb": rss / 1e9, "command": label} for rss, label in others]
    print(f"report: {secs:.0f} s, peak RSS of the process tree {peak / 1e9:.2f} GB; notebook kernels (GB, s): "
          + ", ".join(f"{name} {k['peak_gb']:.2f} / {k['seconds']:.0f}" for name, k in row["kernels"].items())
          + "; largest other processes (GB): " + ", ".join(f"{o['command'][-30:]!r} {o['peak_gb']:.2f}"
                                                          for o in row["other_processes"]))
    durations = {}
    for nb in sorted((report_dir / "executed").glob("*.ipynb")):
        durations[nb.stem] = json.loads(nb.read_text())["metadata"].get("papermill", {}).get("duration")
    row["papermill_seconds"] = durations
    print("notebook execution (papermill, s): " + ", ".join(f"{k} {v:.0f}" for k, v in durations.items() if v))
    html = report_dir / "study.html"
    if html.exists():
        print(f"study.html {html.stat().st_size / 1e6:.1f} MB, documents.csv "
              f"{(report_dir / 'documents.csv').stat().st_size / 1e6:.1f} MB")
    log = DATA / "bench_report.json"
    rows = json.loads(log.read_text()) if log.exists() else []
    log.write_text(json.dumps(rows + [row], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
