"""Assemble the multi-genre gold standard from the two blind hand codings and the adjudication.

Inputs (coding/): to_code_part{1,2}.csv (the sentences as split by the pipeline), coder{A,B}_part{1,2}.csv
(two blind coders), adjudicated_part{1,2}.csv (a third blind reader's decision where A and B differ in any
field). Items where A and B agree take their shared codes. Output: gold_dev.csv and gold_test.csv, split by
text as texts.csv says; the test file's sha256 is printed (recorded in the README; the test half is locked).
Run: python corpus/validation/build_gold.py
"""
import hashlib
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent
FIELDS = ["tactics", "stage", "crossed", "acknowledged"]


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(HERE / "coding" / name, dtype=str, keep_default_na=False)


def main() -> None:
    parts = []
    for part in ("part1", "part2"):
        src, a, adj = read(f"to_code_{part}.csv"), read(f"coderA_{part}.csv"), read(f"adjudicated_{part}.csv")
        gold = src.merge(a[["item", *FIELDS]], on="item", how="left")
        decided = adj.set_index("item")
        for field in FIELDS:
            gold[field] = [decided.at[i, field] if i in decided.index else v for i, v in zip(gold["item"], gold[field])]
        gold["adjudicated"] = gold["item"].isin(decided.index)
        parts.append(gold)
    gold = pd.concat(parts, ignore_index=True)
    texts = pd.read_csv(HERE / "texts.csv", dtype=str)
    gold = gold.merge(texts[["doc", "genre", "split"]], on="doc", how="left")
    if gold["split"].isna().any():
        raise SystemExit(f"texts without a split: {sorted(set(gold.loc[gold.split.isna(), 'doc']))}")
    cols = ["item", "doc", "genre", "text", *FIELDS, "adjudicated"]
    for split in ("dev", "test"):
        out = HERE / f"gold_{split}.csv"
        gold.loc[gold.split == split, cols].to_csv(out, index=False)
        print(split, (gold.split == split).sum(), "items", hashlib.sha256(out.read_bytes()).hexdigest())


if __name__ == "__main__":
    main()
