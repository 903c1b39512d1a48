"""Text without punctuation through a whole run (issue 16). A script, not a test: it prints figures.

Before issue 16 the rule stages' time grew with the square of a sentence's length (one 200,000-character
sentence: 13.9 s in the red-line step alone; a 50 MB line made no progress in 15 minutes). Now a long
sentence is cut at clause marks or a fixed length (``helpers.longtext``). This script runs
``python -m helpers run --workers 1`` on
- ordinary text: ``bench_report.build_corpus`` (distinct documents of the cleaned seed's sentences), and
- the same characters in one line: that corpus's text with every punctuation mark and line break removed,
  one file of the same size,
and prints wall time, chars/s, peak RSS and the ratio line / ordinary (target: at most 2x), plus the number
of cuts the run recorded in its audit trail and its errors.

Usage: .venv/bin/python benchmarks/bench_longline.py [--mb 20] [--backend jieba]
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

from bench_report import DATA, build_corpus
from bench_run import watched

PUNCTUATION = re.compile(r"[\s。！？；;!?，、：:,.（）()“”\"'《》【】〔〕「」…—\-·]")


def build_line(folder: Path, megabytes: int) -> tuple[Path, int]:
    """One file: the text of ``folder`` without punctuation or line breaks, repeated to ``megabytes`` MB."""
    target = DATA / f"line_{megabytes}mb" / "line.txt"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        text = PUNCTUATION.sub("", "".join(p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))))
        data = text.encode("utf-8")
        data = (data * (megabytes * 1_000_000 // len(data) + 1))[: megabytes * 1_000_000]  # padded to size
        target.write_bytes(data.decode("utf-8", "ignore").encode("utf-8"))
    return target, len(target.read_text(encoding="utf-8"))


def timed(input: Path, out: Path, backend: str) -> tuple[float, int]:
    """Wall time and peak RSS of ``python -m helpers run input --out out --workers 1``."""
    shutil.rmtree(out, ignore_errors=True)
    secs, peak, _ = watched([sys.executable, "-m", "helpers", "run", str(input), "--out", str(out),
                             "--workers", "1", "--backend", backend], interval=0.2)
    return secs, peak


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=20)
    ap.add_argument("--backend", default="jieba")
    args = ap.parse_args()
    from helpers.run import load_run

    folder, n_files, chars = build_corpus(args.mb)
    line, line_chars = build_line(folder, args.mb)
    print(f"ordinary: {n_files:,} files, {chars:,} chars; line: 1 line, {line_chars:,} chars "
          f"({line.stat().st_size / 1e6:.1f} MB)")
    took = {}
    for name, input, n in (("ordinary", folder, chars), ("line", line, line_chars)):
        out = DATA / f"out_longline_{name}_{args.mb}mb"
        secs, peak = timed(input, out, args.backend)
        took[name] = secs / n
        tables = load_run(out, ["edits", "errors", "sentences"], {"edits": ["kind"], "sentences": ["doc"],
                                                                   "errors": ["reason"]})
        cuts = int((tables["edits"]["kind"] == "long_sentence").sum())
        print(f"{name}: {secs:.1f} s, {n / secs:,.0f} chars/s, peak RSS {peak / 1e6:,.0f} MB, "
              f"{len(tables['sentences']):,} sentences, {cuts:,} cuts recorded, {len(tables['errors'])} errors")
    print(f"time per character, line / ordinary: {took['line'] / took['ordinary']:.2f}x (target: at most 2x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
