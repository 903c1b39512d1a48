"""A corpus run on a table of many short records, like a complaint platform's export (issue 9). A script, not a test.

Builds a CSV of ``--records`` short complaints (1-4 sentences of the cleaned seed each, drawn with a fixed seed, so
many records repeat or nearly repeat others, as templated complaints do) under benchmarks/data/ (git-ignored), runs
``python -m helpers run`` on it, and prints wall time, chars/s, peak RSS of the process tree and of each process (the
parent holds the corpus-wide near-duplicate pass), then times that pass alone on the finished run folder.

Usage: .venv/bin/python benchmarks/bench_table.py [--records 20000 200000] [--workers 2] [--backend rjieba]
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd

from bench_run import watched  # the same process-tree sampler as the throughput benchmark
from helpers import paths

DATA = paths.ROOT / "benchmarks" / "data"


def build_table(records: int, seed: int = 7):
    """A CSV of ``records`` short complaints drawn from the seed's sentences (columns id, text)."""
    path = DATA / f"complaints_{records}.csv"
    if not path.exists():
        from helpers.run import study_tables

        sentences = study_tables(paths.RAW, tables=["sentences"])["sentences"]["text"].tolist()
        rng = np.random.default_rng(seed)
        texts = ["".join(sentences[j] for j in rng.choice(len(sentences), size=int(rng.integers(1, 5)), replace=False))
                 for _ in range(records)]
        DATA.mkdir(parents=True, exist_ok=True)
        pd.DataFrame({"id": [f"c{i:07d}" for i in range(records)], "text": texts}).to_csv(path, index=False)
    return path


DUPLICATE_PASS = """
import json, resource, sys, time
from pathlib import Path
from helpers.run import link_run_duplicates
out = Path(sys.argv[1])
t = time.perf_counter()
n = link_run_duplicates(out, json.loads((out / "_run.json").read_text())["partitions_written"])
print(json.dumps({"seconds": time.perf_counter() - t, "duplicates": n,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3}))
"""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, nargs="+", default=[20_000, 200_000])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--backend", default="rjieba")
    args = ap.parse_args()
    for records in args.records:
        table = build_table(records)
        out = DATA / f"out_complaints_{records}"
        shutil.rmtree(out, ignore_errors=True)
        secs, peak, per = watched([sys.executable, "-m", "helpers", "run", str(table), "--out", str(out), "--workers",
                                   str(args.workers), "--backend", args.backend, "--id-column", "id"])
        summary = json.loads((out / "_run.json").read_text())
        print(f"{records:,} records ({table.stat().st_size / 1e6:.0f} MB CSV, {summary['chars']:,} chars): run {secs:.0f} s, "
              f"{summary['chars'] / secs:,.0f} chars/s, peak RSS {peak / 1e6:,.0f} MB (processes: "
              + ", ".join(f"{rss / 1e6:,.0f}" for rss, _ in sorted(per.values(), reverse=True)[:3])
              + f" MB); {summary['partitions']} partitions, {summary['duplicates']:,} near-duplicates")
        dup = json.loads(subprocess.run([sys.executable, "-c", DUPLICATE_PASS, str(out)], check=True,
                                        capture_output=True, text=True, cwd=paths.ROOT).stdout)
        print(f"   near-duplicate pass alone: {dup['seconds']:.1f} s, peak RSS {dup['peak_mb']:,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
