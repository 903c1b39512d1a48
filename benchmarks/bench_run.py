"""Throughput and memory of whole-corpus runs (issue 9). A script, not a test: it prints figures.

Builds corpora by replicating the bundled raw texts to 10 MB and 100 MB (benchmarks/data/,
git-ignored), then measures in one session:
- chars/s of ``python -m helpers run`` for workers 1 and 2 on each backend (10 MB),
- the same run's ratio to raw ``jieba.lcut`` on the same text, measured right before that run (on the
  corpus's first million characters): this shared machine's speed drifts by a quarter within minutes,
  so a ratio is taken against a baseline from the same minute, not from the session's start,
- peak RSS (driver + workers, sampled every 0.1 s) at 10 MB vs 100 MB,
- Dask overhead versus the local engine.

With ``--scaling``: only rjieba with 1 and then 2 workers on the largest size (issue 20's target: 2 workers at least
1.7x one worker on 100 MB), with the machine's load average before each run.

Usage: .venv/bin/python benchmarks/bench_run.py [--sizes 10 100] [--quick] [--scaling]
"""
from __future__ import annotations

import argparse
import json
import logging
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from helpers import paths

DATA = paths.ROOT / "benchmarks" / "data"


def build_corpus(megabytes: int) -> tuple[Path, int]:
    """A folder of copies of the raw seed files totalling ``megabytes`` MB; returns (folder, chars)."""
    folder = DATA / f"corpus_{megabytes}mb"
    seeds = sorted(p for p in paths.RAW.glob("*.txt"))
    blobs = [p.read_bytes() for p in seeds]
    target = megabytes * 1_000_000
    if not folder.exists():
        folder.mkdir(parents=True)
        size, n = 0, 0
        while size < target:
            blob = blobs[n % len(blobs)]
            (folder / f"copy_{n:05d}.txt").write_bytes(blob)
            size += len(blob)
            n += 1
    chars = sum(len(p.read_text(encoding="utf-8")) for p in folder.glob("*.txt"))
    return folder, chars


BASELINE_CHARS = 1_000_000


def raw_jieba_chars_per_s(folder: Path, limit_chars: int = BASELINE_CHARS) -> float:
    """chars/s of plain ``jieba.lcut`` (dictionary loaded beforehand) on the folder's first ``limit_chars``."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    text = "".join(p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt")))[:limit_chars]
    t0 = time.perf_counter()
    jieba.lcut(text)
    return len(text) / (time.perf_counter() - t0)


def timed_run(folder: Path, out: Path, workers: int, backend: str, engine: str = "local") -> tuple[float, int]:
    """Wall time and peak RSS (bytes, whole process tree) of one ``helpers run``."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "helpers", "run", str(folder), "--out", str(out), "--workers", str(workers),
           "--backend", backend, "--engine", engine]
    elapsed, peak, _ = watched(cmd)
    return elapsed, peak


def watched(cmd: list[str], interval: float = 0.1, spans: dict[int, tuple[float, float]] | None = None
            ) -> tuple[float, int, dict[int, tuple[int, str]]]:
    """Run ``cmd``: wall time, peak RSS of its process tree (sampled every ``interval`` s) and peak RSS per
    process (pid -> (bytes, the command's last 50 characters)); ``spans`` (when given) gets each process's first
    and last sample time (seconds from the start)."""
    err = tempfile.TemporaryFile()  # not a pipe: a full pipe would stall the progress bar's writes
    t0 = time.perf_counter()
    proc = psutil.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, cwd=paths.ROOT)
    peak, per = 0, {}
    while proc.poll() is None:
        try:
            total = 0
            for p in [proc] + proc.children(recursive=True):
                try:
                    rss = p.memory_info().rss
                    total += rss
                    label = per[p.pid][1] if p.pid in per else " ".join(p.cmdline())[-50:]
                    per[p.pid] = (max(per.get(p.pid, (0, ""))[0], rss), label)
                    if spans is not None:
                        now = time.perf_counter() - t0
                        spans[p.pid] = (spans.get(p.pid, (now, now))[0], now)
                except psutil.Error:
                    pass
            peak = max(peak, total)
        except psutil.Error:
            pass
        time.sleep(interval)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        err.seek(0)
        raise RuntimeError(f"failed: {' '.join(cmd)}\n{err.read().decode(errors='replace')[-2000:]}")
    return elapsed, peak, per


def scaling(megabytes: int) -> int:
    """rjieba with 1 and with 2 workers on the ``megabytes`` corpus: chars/s, peak RSS and their ratio."""
    import os

    folder, chars = build_corpus(megabytes)
    speeds = {}
    for workers in (1, 2):
        load = os.getloadavg()[0]
        secs, rss = timed_run(folder, DATA / "out_scaling", workers, "rjieba")
        speeds[workers] = chars / secs
        print(f"{megabytes} MB rjieba, {workers} worker(s): {secs:.0f} s, {chars / secs:,.0f} chars/s, peak RSS "
              f"{rss / 1e6:,.0f} MB (load average before: {load:.1f})", flush=True)
    print(f"2 workers / 1 worker: {speeds[2] / speeds[1]:.2f}x")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", type=int, default=[10, 100])
    ap.add_argument("--quick", action="store_true", help="only the 10 MB matrix, no 100 MB run")
    ap.add_argument("--scaling", action="store_true", help="only rjieba, 1 then 2 workers, on the largest size")
    args = ap.parse_args()
    if args.scaling:
        return scaling(args.sizes[-1])
    small, big = args.sizes[0], args.sizes[-1]
    folder, chars = build_corpus(small)
    print(f"corpus {small} MB: {chars:,} chars in {len(list(folder.glob('*.txt')))} files")
    rows = []

    def measure(size_mb: int, corpus: Path, n_chars: int, backend: str, workers: int, engine: str = "local") -> None:
        base = raw_jieba_chars_per_s(folder)
        secs, rss = timed_run(corpus, DATA / "out", workers, backend, engine=engine)
        rows.append({"size_mb": size_mb, "engine": engine, "backend": backend, "workers": workers,
                     "chars_per_s": n_chars / secs, "raw_jieba_chars_per_s": base,
                     "ratio_to_raw_jieba": n_chars / secs / base, "peak_rss_mb": rss / 1e6})

    for backend in ("jieba", "rjieba"):
        for workers in (1, 2):
            measure(small, folder, chars, backend, workers)
    measure(small, folder, chars, "rjieba", 2, engine="dask")
    if not args.quick and big != small:
        bfolder, bchars = build_corpus(big)
        measure(big, bfolder, bchars, "rjieba", 2)
    print(f"{'MB':>4} {'engine':>6} {'backend':>7} {'w':>2} {'chars/s':>12} {'raw jieba':>10} {'x raw jieba':>11} "
          f"{'peak RSS MB':>11}")
    for r in rows:
        print(f"{r['size_mb']:>4} {r['engine']:>6} {r['backend']:>7} {r['workers']:>2} {r['chars_per_s']:>12,.0f} "
              f"{r['raw_jieba_chars_per_s']:>10,.0f} {r['ratio_to_raw_jieba']:>11.2f} {r['peak_rss_mb']:>11.0f}")
    local = next(r for r in rows if r["engine"] == "local" and r["backend"] == "rjieba" and r["workers"] == 2 and r["size_mb"] == small)
    dask = next(r for r in rows if r["engine"] == "dask")
    print(f"dask overhead vs local (rjieba, 2 workers): {local['chars_per_s'] / dask['chars_per_s']:.2f}x slower")
    # what a second worker adds on this machine: the ceiling on any two-worker ratio to raw jieba
    for backend in ("jieba", "rjieba"):
        one, two = (next(r for r in rows if r["engine"] == "local" and r["backend"] == backend
                         and r["workers"] == w and r["size_mb"] == small) for w in (1, 2))
        print(f"2 workers / 1 worker ({backend}, {small} MB): {two['chars_per_s'] / one['chars_per_s']:.2f}x")
    if not args.quick and big != small:
        bigrow = rows[-1]
        print(f"peak RSS {big} MB / {small} MB (rjieba, 2 workers): {bigrow['peak_rss_mb'] / local['peak_rss_mb']:.2f}")
    (DATA / "bench_run.json").write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
