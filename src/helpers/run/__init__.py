"""Running the chain: ``run_chain`` (one chain for every path), in process (``study_tables``) or as a
partitioned run to Parquet (``run``: local workers or Dask), the ``code`` records, reading a run folder back."""
from .chain import DUP_THRESHOLD, TABLES, input_genres, other_actor_mentions, run_chain, study_tables
from .engine import check_run, process_partition, run, run_config, warm_chain
from .records import sentence_records, write_records
from .tables import RUN_TABLES, RunIncomplete, is_run, load_run, run_columns, run_files, token_frames

__all__ = ["DUP_THRESHOLD", "RUN_TABLES", "RunIncomplete", "TABLES", "check_run", "input_genres", "is_run", "load_run",
           "other_actor_mentions", "process_partition", "run", "run_chain", "run_columns", "run_config", "run_files",
           "sentence_records", "study_tables", "token_frames", "warm_chain", "write_records"]
