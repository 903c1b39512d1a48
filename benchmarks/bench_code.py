"""``python -m helpers code`` on one long text against raw ``jieba.lcut`` (issue 20). A script, not a test.

One text file of ``--mb`` MB (sentences of the cleaned seed drawn with a fixed seed, one a line, as
``bench_report.build_corpus`` draws them), coded by ``python -m helpers code FILE`` in a subprocess (wall time,
start-up included, output to a file) and cut by raw ``jieba.lcut`` in this process (dictionary loaded before the
clock starts) right before, on the same characters. Several sizes show whether ``code`` is linear.

Usage: .venv/bin/python benchmarks/bench_code.py [--mb 0.25 0.5 1 2 4 8] [--repeat 1]
"""
from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from helpers import paths

DATA = paths.ROOT / "benchmarks" / "data"


def build_text(megabytes: float, seed: int = 0) -> Path:
    """One text file of ``megabytes`` MB of the seed's cleaned sentences, one a line."""
    path = DATA / f"code_{megabytes:g}mb.txt"
    if not path.exists():
        from helpers.run import study_tables

        sentences = study_tables(paths.RAW, tokens=False, tables=["sentences"])["sentences"]["text"].tolist()
        rng = np.random.default_rng(seed)
        lines, size = [], 0
        while size < megabytes * 1_000_000:
            line = sentences[int(rng.integers(len(sentences)))]
            lines.append(line)
            size += len(line.encode("utf-8")) + 1
        DATA.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines), encoding="utf-8")
    return path


def raw_jieba_seconds(text: str) -> float:
    """Seconds of plain ``jieba.lcut`` on ``text`` (dictionary loaded beforehand)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    t0 = time.perf_counter()
    jieba.lcut(text)
    return time.perf_counter() - t0


def code_seconds(path: Path) -> float:
    """Wall seconds of ``python -m helpers code path`` (output to a file, start-up included)."""
    out = DATA / "code_out.jsonl"
    t0 = time.perf_counter()
    with out.open("w") as sink:
        subprocess.run([sys.executable, "-m", "helpers", "code", str(path)], stdout=sink, check=True, cwd=paths.ROOT)
    return time.perf_counter() - t0


def main() -> int:
    """Print raw jieba's and ``code``'s seconds for each size."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, nargs="+", default=[0.25, 0.5, 1, 2, 4, 8])
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    print(f"{'MB':>5} {'chars':>10} {'raw jieba s':>11} {'code s':>8} {'x raw jieba':>11} {'code s/MB':>9}")
    for mb in args.mb:
        path = build_text(mb)
        text = path.read_text(encoding="utf-8")
        for _ in range(args.repeat):
            base = raw_jieba_seconds(text)
            secs = code_seconds(path)
            print(f"{mb:>5g} {len(text):>10,} {base:>11.2f} {secs:>8.2f} {base / secs:>11.2f} {secs / mb:>9.2f}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
