"""Where a sweep keeps its runs: a manifest, checkpointed chunks, one final table.

Layout of a sweep folder::

    sweep.json          the experiment (its text and sha256), seeds, versions, batching
    design.parquet      the sample design in quantile space and the parameter values
    chunks/batch-NNNNNN.parquet   one file per finished batch, written atomically
    runs.parquet        every run, sorted by sample point and replicate (at the end)

A chunk appears under its final name only once complete (written to a temporary name and
renamed), so after a crash or ``kill -9`` every chunk on disk is whole and the batches
without one are exactly those still to run. The final table is built from the chunks in
batch order, so it does not depend on the order batches finished in, nor on how many
times the sweep was interrupted.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from ci_sim.outputs import write_atomic

MANIFEST = "sweep.json"
DESIGN = "design.parquet"
CHUNKS = "chunks"
RUNS = "runs.parquet"


class SweepFolder:
    """Reads and writes one sweep folder."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    @property
    def chunk_folder(self) -> Path:
        return self.path / CHUNKS

    @property
    def runs_path(self) -> Path:
        return self.path / RUNS

    def has_sweep(self) -> bool:
        return self.manifest_path.is_file()

    def read_manifest(self) -> dict[str, Any]:
        return json.loads(self.manifest_path.read_text(encoding="utf-8"))

    def start(self, manifest: dict[str, Any], design: pd.DataFrame) -> None:
        """Create the folder with its design and manifest (the manifest last: a folder
        with a manifest always has its design)."""
        self.chunk_folder.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path / DESIGN, lambda p: design.to_parquet(p, index=False))
        write_atomic(self.manifest_path,
                     lambda p: p.write_text(json.dumps(manifest, indent=2), encoding="utf-8"))

    def read_design(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / DESIGN)

    def chunk_path(self, batch: int) -> Path:
        return self.chunk_folder / f"batch-{batch:06d}.parquet"

    def finished_batches(self) -> set[int]:
        """Batches whose chunk is on disk; removes temporary files an interruption left."""
        if not self.chunk_folder.is_dir():
            return set()
        for leftover in self.chunk_folder.glob(".*.partial"):
            leftover.unlink(missing_ok=True)
        return {int(path.stem.removeprefix("batch-"))
                for path in self.chunk_folder.glob("batch-*.parquet")}

    def write_chunk(self, batch: int, columns: dict[str, list]) -> None:
        frame = pd.DataFrame(columns)
        write_atomic(self.chunk_path(batch), lambda p: frame.to_parquet(p, index=False))

    def read_chunks(self, batches: int) -> pd.DataFrame:
        frames = [pd.read_parquet(self.chunk_path(batch)) for batch in range(batches)]
        return pd.concat(frames, ignore_index=True)

    def write_runs(self, runs: pd.DataFrame, metadata: dict[str, Any]) -> None:
        """Write runs.parquet (with ``metadata`` as JSON in the file) and drop the chunks."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(runs, preserve_index=False)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               b"ci_sim": json.dumps(metadata).encode()})
        write_atomic(self.runs_path, lambda p: pq.write_table(table, p))
        shutil.rmtree(self.chunk_folder, ignore_errors=True)

    def read_runs(self) -> pd.DataFrame:
        return pd.read_parquet(self.runs_path)

    def is_empty(self) -> bool:
        return not self.path.exists() or not any(os.scandir(self.path))
