"""Notebook kernels out of core: DuckDB over a run's Parquet partitions (or the in-memory tables of a small
corpus), partition-by-partition folds for the kernels that read text; only aggregates, samples, quotes and per-unit
numbers come into pandas."""
from __future__ import annotations

from .store import KEPT, ORDER, Store

__all__ = ["KEPT", "ORDER", "Store"]
