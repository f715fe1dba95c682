"""Where a study keeps its runs while it runs: a manifest, checkpointed chunks, one table.

Layout of a study's store folder::

    study.json          what the study is (its definition and sha256), seeds, versions
    design.parquet      optional: the points (a sweep's sample design)
    chunks/batch-NNNNNN.parquet   the runs of one finished batch, written atomically
    runs.parquet        every run, sorted by point and replicate (a sweep keeps it)

A chunk appears under its final name only once complete (written to a uniquely named
temporary file, flushed to disk and renamed), so after a crash or ``kill -9`` every chunk
on disk is whole. A chunk holds rows keyed by ``point`` and ``replicate``: the runs still
to do are exactly those without a row, whatever the batch size or the executor of the
session that wrote it. Each run's values depend only on its point and seed, so the final
table does not depend on the order runs finished in nor on how often the study was
interrupted. A study holds a lock on its store (``.lock``) while it runs.

Everything read back is checked: a damaged file is an :class:`InputError` naming it.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ci_sim.errors import InputError
from ci_sim.folders import write_atomic

MANIFEST = "study.json"
DESIGN = "design.parquet"
CHUNKS = "chunks"
RUNS = "runs.parquet"
LOCK = ".lock"

#: Keys every manifest has.
MANIFEST_KEYS = ("kind", "identity", "ci_sim")

#: Columns every run row has.
KEYS = ("point", "replicate", "seed")


def damaged(path: Path, error: BaseException, advice: str) -> InputError:
    """The one-line error for a study file that cannot be read back as written."""
    text = str(error).strip()
    reason = getattr(error, "strerror", None) or (text.splitlines()[0].split(". ")[0][:160]
                                                  if text else type(error).__name__)
    return InputError(f"{path}: damaged or unreadable ({reason}); {advice}")


def read_parquet(path: Path, advice: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a parquet file of the store, checking that it is whole and has ``columns``."""
    try:
        frame = pd.read_parquet(path)
    except Exception as error:  # pyarrow raises many kinds for a damaged file
        raise damaged(path, error, advice) from None
    missing = [column for column in columns or [] if column not in frame.columns]
    if missing:
        raise damaged(path, ValueError(f"no column {missing[0]!r}"), advice)
    return frame


def plain_columns(columns: dict[str, list]) -> pd.DataFrame:
    """A chunk's columns as a frame; arrays (trajectories) become list cells."""
    return pd.DataFrame({name: [value.tolist() if isinstance(value, np.ndarray) else value
                                for value in values] for name, values in columns.items()})


def posterior_words(identity: dict[str, Any] | None) -> str:
    """How a resume error names a study's posterior (``identity["posterior"]``)."""
    if not identity:
        return "without --posterior"
    return (f"with --posterior {identity.get('file')} (sha256 "
            f"{str(identity.get('sha256'))[:12]}, drawing {', '.join(identity.get('applied', []))})")


class Store:
    """Reads and writes one study's store folder.

    Args:
        path: the folder.
        kind: what the study is called in messages (``sweep``, ``stress test``, ...).
    """

    def __init__(self, path: Path, kind: str = "study"):
        self.path = Path(path)
        self.kind = kind
        self._next_chunk: int | None = None  # see next_chunk

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    @property
    def chunk_folder(self) -> Path:
        return self.path / CHUNKS

    @property
    def runs_path(self) -> Path:
        return self.path / RUNS

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def read_manifest(self) -> dict[str, Any]:
        advice = f"the {self.kind} cannot be resumed; start it again with --overwrite"
        try:
            manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise damaged(self.manifest_path, error, advice) from None
        if not isinstance(manifest, dict) or any(key not in manifest for key in MANIFEST_KEYS):
            raise damaged(self.manifest_path, ValueError("keys missing"), advice)
        return manifest

    def start(self, manifest: dict[str, Any], design: pd.DataFrame | None = None, *,
              write: Callable[[pd.DataFrame, Path], None] | None = None) -> None:
        """Create the store with its design and manifest (the manifest last: a store with
        a manifest always has its design).

        Args:
            write: writes a table to a path (default: plain Parquet); a study passes
                :func:`ci_sim.parquet.write_parquet` with its metadata here.
        """
        self.chunk_folder.mkdir(parents=True, exist_ok=True)
        if design is not None:
            writer = write or (lambda frame, p: frame.to_parquet(p, index=False))
            write_atomic(self.path / DESIGN, lambda p: writer(design, p))
        write_atomic(self.manifest_path,
                     lambda p: p.write_text(json.dumps(manifest, indent=2, default=float),
                                            encoding="utf-8"))

    def check_resumable(self, identity: dict[str, Any], source: str, version: str
                        ) -> dict[str, Any]:
        """The manifest, if a study of this ``identity`` may resume into the store: the same
        kind, definition (and posterior, ``identity["posterior"]``) and ci-sim version."""
        manifest = self.read_manifest()
        if manifest["kind"] != self.kind:
            raise InputError(f"--resume: {self.path} holds a {manifest['kind']}, not a "
                             f"{self.kind}; choose another --out folder")
        started, now = manifest["identity"].get("posterior"), identity.get("posterior")
        if started != json.loads(json.dumps(now, default=float)):
            raise InputError(f"--resume: the {self.kind} in {self.path} was started "
                             f"{posterior_words(started)}, this one runs "
                             f"{posterior_words(now)}; resuming would mix runs on different "
                             f"parameters, so give the same --posterior or run into a new "
                             f"--out folder")
        if manifest["identity"] != json.loads(json.dumps(identity, default=float)):
            old = str(manifest["identity"].get("sha256", "?"))[:12]
            new = str(identity.get("sha256", "?"))[:12]
            raise InputError(f"--resume: {source} has changed since the {self.kind} in "
                             f"{self.path} started (sha256 {old} then, {new} now); resuming "
                             f"would mix two {self.kind}s, so run it into a new --out folder")
        if manifest["ci_sim"] != version:
            raise InputError(f"--resume: the {self.kind} in {self.path} was started with "
                             f"ci-sim {manifest['ci_sim']}, this is {version}; results would "
                             f"differ, so run it into a new --out folder")
        return manifest

    def read_design(self) -> pd.DataFrame:
        return read_parquet(self.path / DESIGN, "start again with --overwrite", ["sample"])

    def next_chunk(self) -> int:
        """The number of the next chunk: one more than the largest on disk, looked up once
        and then counted here (a study holds the store's lock, so nobody else writes)."""
        if self._next_chunk is None:
            numbers = [int(path.stem.removeprefix("batch-"))
                       for path in self.chunk_folder.glob("batch-*.parquet")
                       if path.stem.removeprefix("batch-").isdigit()]
            self._next_chunk = max(numbers, default=-1) + 1
        self._next_chunk += 1
        return self._next_chunk - 1

    def write_chunk(self, columns: dict[str, list]) -> None:
        """Save the runs of one finished batch (``point``, ``replicate``, ``seed`` and the
        outcomes, one entry per run)."""
        frame = plain_columns(columns)
        self.chunk_folder.mkdir(parents=True, exist_ok=True)
        path = self.chunk_folder / f"batch-{self.next_chunk():06d}.parquet"
        write_atomic(path, lambda p: frame.to_parquet(p, index=False))

    def read_chunks(self, outcomes: list[str]) -> list[dict[str, Any]]:
        """Every saved run as a row; removes temporary files an interruption left.

        Raises:
            InputError: a damaged chunk, or one holding a run twice.
        """
        if not self.chunk_folder.is_dir():
            return []
        for leftover in self.chunk_folder.glob(".*.partial"):
            leftover.unlink(missing_ok=True)
        advice = "delete it and run again with --resume"
        rows: dict[tuple[int, int], dict[str, Any]] = {}
        for path in sorted(self.chunk_folder.glob("batch-*.parquet")):
            frame = read_parquet(path, advice, [*KEYS, *outcomes])
            for row in frame.to_dict("records"):
                key = (int(row["point"]), int(row["replicate"]))
                if key in rows:
                    raise damaged(path, ValueError(f"run {key} is saved twice"), advice)
                rows[key] = {name: (np.asarray(value, dtype=float)
                                    if isinstance(value, (list, np.ndarray)) else value)
                             for name, value in row.items()}
        return list(rows.values())

    def write_runs(self, runs: pd.DataFrame,
                   write: Callable[[pd.DataFrame, Path], None]) -> None:
        """Write runs.parquet atomically with ``write`` (a study passes
        :func:`ci_sim.parquet.write_parquet` with its metadata) and drop the chunks."""
        write_atomic(self.runs_path, lambda p: write(runs, p))
        self.remove_chunks()

    def remove_chunks(self) -> None:
        shutil.rmtree(self.chunk_folder, ignore_errors=True)
        self._next_chunk = None

    def read_runs(self, columns: list[str], rows: int | None) -> pd.DataFrame:
        """runs.parquet, checked to have ``columns`` and ``rows`` runs (None: any number,
        for a study that added replicates until a precision was met)."""
        advice = f"delete it and run the {self.kind} again with --resume"
        runs = read_parquet(self.runs_path, advice, columns)
        if rows is not None and len(runs) != rows:
            raise damaged(self.runs_path, ValueError(f"{len(runs)} runs, expected {rows}"),
                          advice)
        return runs

    def is_empty(self) -> bool:
        """No files but a study's own leftovers from before its manifest was written (a
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
        """Remove everything in the folder but the lock."""
        self._next_chunk = None
        if not self.path.exists():
            return
        for entry in os.scandir(self.path):
            if entry.name == LOCK:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
