"""Token identity and speed of the two tokenizer backends against jieba itself (issue 17). A script, not a test.

The reference is jieba's own ``Tokenizer.lcut(text, HMM=True)`` on the project dictionary (the tokens the study
means by "jieba"). Compared with it, sentence by sentence: ``Segmenter("jieba")`` (the array path of
``helpers.jieba_arrays``) and ``Segmenter("rjieba")`` (jieba-rs), on
- the bundled corpus (``corpus/raw``) and the held-out texts (``corpus/validation/heldout*/texts``), cleaned and split
  into sentences as the pipeline does,
- ``--mb`` MB of generated text: seeded random mixes of dictionary words, user-dictionary words, any Han
  characters (rare ones too, which jieba's HMM cuts), digits, Latin letters, punctuation and line breaks.
Identity: the share of sentences cut identically, and the share of the reference's tokens (as spans) that the
contender also gives. Speed: characters per second of each on the generated text cut as one string (best of
``--repeat``), with raw ``jieba.lcut`` (default dictionary) for scale.

Usage: .venv/bin/python benchmarks/bench_backends.py [--mb 3] [--repeat 2]
"""
from __future__ import annotations

import argparse
import logging
import random
import time
from pathlib import Path

import jieba

from helpers import paths
from helpers.clean import clean_corpus
from helpers.lexicons import Lexicons
from helpers.corpus import load_corpus
from helpers.segment import Segmenter, load_userdict, split_sentences

jieba.setLogLevel(logging.WARNING)
FILLERS = list("，。！？；、 \n\u3000（）“”：") + ["\r\n", "abc", "XYZ", "2024", "3.5%", "M1", "+86", "&", "_", "-"]


def corpus_sentences(folder: Path) -> list[str]:
    """The clean sentences of a folder of texts (the pipeline's input to tokenisation)."""
    docs, _ = load_corpus(folder)
    documents, edits = clean_corpus(docs, Lexicons())
    return split_sentences(documents, edits)["text"].tolist()


def generated_lines(megabytes: float, seed: int = 17) -> list[str]:
    """Seeded random lines of mixed words, rare characters and punctuation, about ``megabytes`` MB in all."""
    rnd = random.Random(seed)
    freq = Segmenter("jieba")._engine.FREQ
    words = [w for w, f in freq.items() if f]
    user = [e.word for e in load_userdict()]
    lines, size = [], 0
    while size < megabytes * 1e6:
        parts = []
        for _ in range(rnd.randint(3, 40)):
            kind = rnd.random()
            if kind < 0.55:
                parts.append(rnd.choice(words))
            elif kind < 0.65:
                parts.append(rnd.choice(user))
            elif kind < 0.85:
                parts.append("".join(chr(rnd.randint(0x4E00, 0x9FFF)) for _ in range(rnd.randint(1, 4))))
            else:
                parts.append(rnd.choice(FILLERS))
        line = "".join(parts)
        lines.append(line)
        size += len(line.encode("utf-8")) + 1
    return lines


def spans(tokens: list[str]) -> set[tuple[int, int]]:
    """The (start, end) offsets of consecutive tokens."""
    out, at = set(), 0
    for t in tokens:
        out.add((at, at + len(t)))
        at += len(t)
    return out


def identity(texts: list[str], reference, contender) -> tuple[float, float]:
    """(% of texts cut identically, % of the reference's token spans the contender also gives)."""
    same = shared = total = 0
    for text in texts:
        want, got = reference(text), contender(text)
        same += want == got
        a, b = spans(want), spans(got)
        shared += len(a & b)
        total += len(a)
    return 100 * same / max(len(texts), 1), 100 * shared / max(total, 1)


def speed(cut, text: str, repeat: int) -> float:
    """Characters per second of ``cut(text)``, best of ``repeat``."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        cut(text)
        best = min(best, time.perf_counter() - start)
    return len(text) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=3.0, help="MB of generated text")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    exact = Segmenter("jieba")._engine
    contenders = {"Segmenter('jieba')": Segmenter("jieba"), "Segmenter('rjieba')": Segmenter("rjieba")}
    reference = lambda text: exact.lcut(text, HMM=True)  # noqa: E731
    sets = {"corpus/raw": corpus_sentences(paths.RAW)}
    for folder in sorted((paths.ROOT / "corpus" / "validation").glob("heldout*/texts")):
        sets[folder.parent.name] = corpus_sentences(folder)
    sets[f"generated {args.mb:g} MB"] = generated_lines(args.mb)
    for name, texts in sets.items():
        print(f"{name}: {len(texts):,} texts, {sum(map(len, texts)):,} chars")
        for label, seg in contenders.items():
            texts_same, tokens_same = identity(texts, reference, seg.cut)
            print(f"  {label:22s} identical texts {texts_same:7.3f} %  identical tokens {tokens_same:7.3f} %")
    text = "\n".join(sets[f"generated {args.mb:g} MB"])
    jieba.initialize()
    rates = {"jieba.lcut (default dictionary)": speed(jieba.lcut, text, args.repeat),
             "Tokenizer.lcut (project dictionary)": speed(reference, text, args.repeat)}
    rates.update({label: speed(seg.cut, text, args.repeat) for label, seg in contenders.items()})
    base = rates["jieba.lcut (default dictionary)"]
    print(f"speed on the generated text ({len(text):,} chars, one string, best of {args.repeat}):")
    for label, rate in rates.items():
        print(f"  {label:36s} {rate / 1e3:8.0f}k chars/s  {rate / base:5.2f}x")


if __name__ == "__main__":
    main()
