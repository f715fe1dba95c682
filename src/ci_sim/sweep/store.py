"""Where a sweep keeps its runs: a manifest, checkpointed chunks, one final table.

Layout of a sweep folder::

    sweep.json          the experiment (its text and sha256), seeds, versions, batching
    design.parquet      the sample design in quantile space and the parameter values
    chunks/batch-NNNNNN.parquet   one file per finished batch, written atomically
    runs.parquet        every run, sorted by sample point and replicate (at the end)

A chunk appears under its final name only once complete (written to a uniquely named
temporary file, flushed to disk and renamed), so after a crash or ``kill -9`` every chunk
on disk is whole and the batches without one are exactly those still to run. The final
table is built from the chunks in batch order, so it does not depend on the order batches
finished in, nor on how many times the sweep was interrupted; the chunks are removed once
it is written. A sweep holds a lock on its folder (``.lock``) while it runs.

Everything read back is checked: a damaged file is an :class:`InputError` naming it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from ci_sim.folders import write_atomic
from ci_sim.errors import InputError

MANIFEST = "sweep.json"
DESIGN = "design.parquet"
CHUNKS = "chunks"
RUNS = "runs.parquet"
LOCK = ".lock"

#: Keys every manifest has.
MANIFEST_KEYS = ("experiment", "experiment_sha256", "scenario_sha256", "ci_sim", "batch_size",
                 "runs")


def damaged(path: Path, error: BaseException, advice: str) -> InputError:
    """The one-line error for a sweep file that cannot be read back as written."""
    text = str(error).strip()
    reason = getattr(error, "strerror", None) or (text.splitlines()[0].split(". ")[0][:160]
                                                  if text else type(error).__name__)
    return InputError(f"{path}: damaged or unreadable ({reason}); {advice}")


def read_parquet(path: Path, advice: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a parquet file of the sweep, checking that it is whole and has ``columns``."""
    try:
        frame = pd.read_parquet(path)
    except Exception as error:  # pyarrow raises many kinds for a damaged file
        raise damaged(path, error, advice) from None
    missing = [column for column in columns or [] if column not in frame.columns]
    if missing:
        raise damaged(path, ValueError(f"no column {missing[0]!r}"), advice)
    return frame


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
        advice = "the sweep cannot be resumed; start it again with --overwrite"
        try:
            manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise damaged(self.manifest_path, error, advice) from None
        if not isinstance(manifest, dict) or any(key not in manifest for key in MANIFEST_KEYS):
            raise damaged(self.manifest_path, ValueError("keys missing"), advice)
        if any(type(manifest[key]) is not int or manifest[key] < 1
               for key in ("batch_size", "runs")):
            raise damaged(self.manifest_path, ValueError("batch_size and runs must be whole "
                                                         "numbers of at least 1"), advice)
        return manifest

    def start(self, manifest: dict[str, Any], design: pd.DataFrame) -> None:
        """Create the folder with its design and manifest (the manifest last: a folder
        with a manifest always has its design)."""
        self.chunk_folder.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path / DESIGN, lambda p: design.to_parquet(p, index=False))
        write_atomic(self.manifest_path,
                     lambda p: p.write_text(json.dumps(manifest, indent=2), encoding="utf-8"))

    def read_design(self) -> pd.DataFrame:
        return read_parquet(self.path / DESIGN, "start the sweep again with --overwrite",
                            ["sample"])

    def chunk_path(self, batch: int) -> Path:
        return self.chunk_folder / f"batch-{batch:06d}.parquet"

    def finished_batches(self) -> set[int]:
        """Batches whose chunk is on disk; removes temporary files an interruption left."""
        if not self.chunk_folder.is_dir():
            return set()
        for leftover in self.chunk_folder.glob(".*.partial"):
            leftover.unlink(missing_ok=True)
        finished = set()
        for path in self.chunk_folder.glob("batch-*.parquet"):
            number = path.stem.removeprefix("batch-")
            if number.isdigit():
                finished.add(int(number))
        return finished

    def write_chunk(self, batch: int, columns: dict[str, list]) -> None:
        frame = pd.DataFrame(columns)
        write_atomic(self.chunk_path(batch), lambda p: frame.to_parquet(p, index=False))

    def read_chunk(self, batch: int, samples: tuple[int, ...], replicates: tuple[int, ...],
                   columns: list[str]) -> pd.DataFrame:
        """One batch's chunk, checked to hold exactly the batch's runs."""
        path = self.chunk_path(batch)
        advice = "delete it and run the sweep again with --resume"
        frame = read_parquet(path, advice, ["sample", "replicate", "seed", *columns])
        if frame["sample"].tolist() != list(samples) or \
                frame["replicate"].tolist() != list(replicates):
            raise damaged(path, ValueError("not the runs of this batch"), advice)
        return frame

    def write_runs(self, runs: pd.DataFrame, metadata: dict[str, Any]) -> None:
        """Write runs.parquet (with ``metadata`` as JSON in the file) and drop the chunks."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(runs, preserve_index=False)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               b"ci_sim": json.dumps(metadata).encode()})
        write_atomic(self.runs_path, lambda p: pq.write_table(table, p))
        self.remove_chunks()

    def remove_chunks(self) -> None:
        shutil.rmtree(self.chunk_folder, ignore_errors=True)

    def read_runs(self, columns: list[str], rows: int) -> pd.DataFrame:
        """runs.parquet, checked to have ``columns`` and ``rows`` runs."""
        advice = "delete it and run the sweep again with --resume"
        runs = read_parquet(self.runs_path, advice, ["sample", "replicate", "seed", *columns])
        if len(runs) != rows:
            raise damaged(self.runs_path, ValueError(f"{len(runs)} runs, expected {rows}"),
                          advice)
        return runs

    def is_empty(self) -> bool:
        """No files but a sweep's own leftovers from before its manifest was written (a
        kill in its first moments): the lock, the design, an empty chunk folder."""
        if not self.path.exists():
            return True
        own = {LOCK, DESIGN, CHUNKS}
        for entry in os.scandir(self.path):
            if entry.name == CHUNKS and any(os.scandir(entry.path)):
                return False
            if entry.name not in own and not entry.name.endswith(".partial"):
                return False
        return True

    def clear(self) -> None:
        """Remove everything in the folder but the lock (``--overwrite``)."""
        for entry in os.scandir(self.path):
            if entry.name == LOCK:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
