"""Segmentation throughput: raw jieba.lcut vs the project's Segmenter and the whole pipeline.

Usage: .venv/bin/python benchmarks/bench_segment.py [--mb 5] [--corpus corpus/raw/000_...txt]

The seed's clean text is replicated to at least ``--mb`` MB (UTF-8) and every contender
works on that same text in the same run: raw ``jieba.lcut`` (process-global tokenizer,
default dictionary), ``helpers.segment.Segmenter`` on each backend, and the pipeline
clean → split → segment started from the raw page replicated as many times (its clean
text is the same text). ``jieba Tokenizer.lcut, project dictionary`` is jieba's own code on
the Segmenter's dictionary: every Segmenter must give exactly its tokens (checked each round),
so the gap between the two is the Segmenter's own speed-up, not a dictionary effect.
Throughput is clean characters per second; dictionary loading is done before the clocks
start; each contender's best of ``--repeat`` rounds is shown. Targets (issue 4): pipeline on
jieba ≥ 0.8× raw jieba; on rjieba well above raw jieba.
"""
from __future__ import annotations

import argparse
import logging
import math
import platform
import time
from pathlib import Path

import jieba
import pandas as pd

from helpers import paths
from helpers.clean import clean_corpus
from helpers.lexicons import Lexicons
from helpers.corpus import load_corpus
from helpers.segment import BACKENDS, get_segmenter, split_sentences, tokenize

jieba.setLogLevel(logging.WARNING)


def timed(fn, *args, **kwargs):
    """(result, seconds) of one call."""
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def replicate(docs: pd.DataFrame, copies: int) -> pd.DataFrame:
    """``copies`` copies of the loaded raw documents, each with its own doc id."""
    frames = []
    for i in range(copies):
        part = docs.copy()
        part["doc"] = part["doc"] + f"~{i:03d}"
        frames.append(part)
    return pd.concat(frames, ignore_index=True)


def pipeline(docs: pd.DataFrame, backend: str) -> tuple[pd.DataFrame, dict[str, float]]:
    """clean → split → segment, with the seconds of each stage."""
    (documents, edits), t_clean = timed(clean_corpus, docs, Lexicons())
    sentences, t_split = timed(split_sentences, documents, edits)
    tokens, t_tok = timed(tokenize, sentences, backend=backend)
    return tokens, {"clean": t_clean, "split": t_split, "segment": t_tok}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=5.0, help="minimum size of the text in MB (UTF-8)")
    parser.add_argument("--corpus", type=Path, default=paths.RAW / "000_596d8518cc043797.txt")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; each contender's best round is reported")
    args = parser.parse_args()

    docs, _ = load_corpus(args.corpus)
    documents, _ = clean_corpus(docs, Lexicons())
    unit = "\n".join(documents["text"])
    copies = math.ceil(args.mb * 1e6 / len(unit.encode("utf-8")))
    text = "\n".join([unit] * copies)
    big_docs = replicate(docs, copies)
    n = len(text)
    print(f"text: {copies} copies of the seed's clean text = {n:,} chars, {len(text.encode('utf-8')) / 1e6:.2f} MB "
          f"(raw input {sum(map(len, big_docs['raw'])):,} chars); python {platform.python_version()}, "
          f"jieba {jieba.__version__}")

    jieba.initialize()  # load dictionaries before the clocks start
    segmenters = {b: get_segmenter(b) for b in BACKENDS}
    clean_corpus(docs, Lexicons())

    best: dict[str, tuple[float, int, str]] = {}

    def keep(name: str, secs: float, ntok: int, detail: str = "") -> None:
        if name not in best or secs < best[name][0]:
            best[name] = (secs, ntok, detail)

    for _ in range(args.repeat):  # rounds interleave the contenders, so machine load hits them alike
        raw_tokens, t = timed(jieba.lcut, text)
        keep("raw jieba.lcut", t, len(raw_tokens))
        # jieba's own code on the project dictionary: what Segmenter('jieba') must match token for token
        own_tokens, t = timed(segmenters["jieba"]._engine.lcut, text, HMM=True)
        keep("jieba Tokenizer.lcut, project dictionary", t, len(own_tokens))
        for backend, seg in segmenters.items():
            toks, t = timed(seg.cut, text)
            keep(f"Segmenter({backend!r}).cut", t, len(toks))
            if toks != own_tokens:
                raise SystemExit(f"Segmenter({backend!r}) tokens differ from jieba's on the same dictionary")
        for backend in BACKENDS:
            tokens, stages = pipeline(big_docs, backend)
            detail = ", ".join(f"{k} {v:.2f}s" for k, v in stages.items())
            keep(f"pipeline clean→split→segment [{backend}]", sum(stages.values()), len(tokens), detail)
    t_raw = best["raw jieba.lcut"][0]
    rows = [(name, *values) for name, values in best.items()]

    print(f"\n{'contender':44} {'seconds':>8} {'chars/s':>12} {'× raw jieba':>12} {'tokens':>10}  stages")
    for name, secs, ntok, detail in rows:
        print(f"{name:44} {secs:8.2f} {n / secs:12,.0f} {t_raw / secs:12.2f} {ntok:10,}  {detail}")
    print("\ntargets: pipeline [jieba] ≥ 0.80× raw jieba; pipeline [rjieba] well above 1×")


if __name__ == "__main__":
    main()
