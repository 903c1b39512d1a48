"""Near-duplicates across a whole run: each partition's MinHash signatures, linked corpus-wide at the end."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..clean.dedup import (UntilLastUse, duplicate_candidates, last_uses, link_duplicates, minhash_and_sizes,
                           shingle_similarity, size_compatible)
from .chain import DUP_THRESHOLD
from ..safeio import write_atomic

# MinHash signatures of each partition's documents (internal: the corpus-wide near-duplicate pass reads them)
SIGNATURES = "_signatures"


def signature_table(documents: pd.DataFrame) -> pd.DataFrame:
    """Each document's MinHash signature, text hash and number of distinct shingles (one partition's)."""
    texts = documents["text"].tolist()
    sig, sizes = minhash_and_sizes(texts)
    return pd.DataFrame({"doc": documents["doc"].tolist(), "minhash": [row.tobytes() for row in sig],
                         "text_hash": [_text_hash(t) for t in texts], "n_shingles": sizes},
                        columns=SIGNATURE_COLUMNS)


SIGNATURE_COLUMNS = ["doc", "minhash", "text_hash", "n_shingles"]


def _text_hash(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def link_run_duplicates(out: str | Path, partitions: list[str], threshold: float = DUP_THRESHOLD) -> int:
    """Mark near-duplicate documents across the whole run, as ``clean_corpus`` does in process: each
    document's ``duplicate_of`` is the first earlier document (in partition order) with shingle Jaccard ≥
    ``threshold``. Candidates come from the workers' MinHash signatures; only candidate documents' texts are
    read (identical texts are told by their hash; pairs whose shingle counts rule the threshold out are
    dropped first), each only until its last comparison: the parent holds the signatures (~0.5 kB per
    document) and the texts still to be compared, not the corpus's text. Rewrites the documents partitions
    whose column changes; returns the number of duplicates."""
    out = Path(out)
    present = [name for name in partitions if (out / SIGNATURES / f"{name}.parquet").exists()]
    files = [pq.ParquetFile(out / SIGNATURES / f"{name}.parquet") for name in present]
    n = sum(f.metadata.num_rows for f in files)
    docs: list[str] = []
    owner = np.zeros(n, dtype=np.int64)  # partition of each document
    hashes = np.zeros((n, 2), dtype=np.uint64)  # each text's 16-byte hash
    sizes = np.zeros(n, dtype=np.int64)  # distinct shingles of each text
    signatures = np.zeros((n, 64), dtype=np.uint64)  # filled in place: no second copy of the whole matrix
    at = 0
    for p, f in enumerate(files):
        table = f.read()
        rows = table.num_rows
        docs += table.column("doc").to_pylist()
        owner[at:at + rows] = p
        hashes[at:at + rows] = np.frombuffer(b"".join(table.column("text_hash").to_pylist()), np.uint64).reshape(rows, 2)
        sizes[at:at + rows] = table.column("n_shingles").to_numpy()
        if rows:
            signatures[at:at + rows] = np.frombuffer(b"".join(table.column("minhash").to_pylist()),
                                                     dtype=np.uint64).reshape(rows, -1)
        at += rows
    later, earlier = duplicate_candidates(signatures, threshold)
    del signatures
    differ = (hashes[later] != hashes[earlier]).any(axis=1)
    keep = ~differ | size_compatible(sizes, later, earlier, threshold)
    later, earlier, differ = later[keep], earlier[keep], differ[keep]
    # texts are compared only for candidates whose texts differ; each is read once, with its partition's other
    # texts still to be compared, and forgotten after its last comparison (memory: the texts in play, not all)
    last = last_uses(len(docs), later[differ], earlier[differ])
    texts = UntilLastUse(last)
    position = {d: i for i, d in enumerate(docs)}
    now = [0]

    def text_of(i: int) -> str:
        if i not in texts:  # load the texts of this document's partition that comparisons still need
            table = pq.read_table(out / "documents" / f"{present[owner[i]]}.parquet", columns=["doc", "text"])
            for doc, text in zip(table.column("doc").to_pylist(), table.column("text").to_pylist()):
                if last[position[doc]] >= now[0]:
                    texts[position[doc]] = text
        return texts[i]
    jaccard_ok = shingle_similarity(text_of, threshold, last=last)

    text_id = [hi << 64 | lo for hi, lo in hashes.tolist()]  # the hashes as Python ints: one comparison a call

    def similar(i: int, j: int) -> bool:
        now[0] = i
        texts.forget_before(i)
        return text_id[i] == text_id[j] or jaccard_ok(i, j)
    linked = link_duplicates(len(docs), later, earlier, similar)
    duplicate_of = {docs[i]: (docs[j] if j is not None else None) for i, j in enumerate(linked)}
    for name in present:
        path = out / "documents" / f"{name}.parquet"
        if not path.exists():
            continue
        table = pq.read_table(path)
        new = [duplicate_of.get(d) for d in table.column("doc").to_pylist()]
        if new != table.column("duplicate_of").to_pylist():
            k = table.schema.get_field_index("duplicate_of")
            table = table.set_column(k, "duplicate_of", pa.array(new, type=pa.string()))
            write_atomic(path, lambda tmp: pq.write_table(table, tmp))
    return sum(j is not None for j in linked)
