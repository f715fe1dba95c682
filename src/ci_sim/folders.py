"""Output folders: results are never silently replaced, never mixed, never half-written.

Every command that writes results goes through :class:`OutputFolder`::

    with OutputFolder(out, overwrite=overwrite) as staging:
        write_everything_into(staging)

Before anything is computed, the folder is checked: a folder that already holds results
is refused unless ``overwrite`` is given, and the place must be writable (a temporary
sibling folder with a unique name is created there). Everything is written into that
sibling; on success its files are flushed to disk (fsync) and it takes the folder's
place with one rename. When overwriting, old and new are swapped in one step (Linux's
``renameat2(RENAME_EXCHANGE)``), so a kill leaves either the old set or the new one,
never a mix. On an error, or a kill, the target is untouched; a temporary folder left by
a killed process is removed the next time the same folder is written.

A folder shared with other files (``ci-sim validate --out docs``) lists the entries the
command owns (``members``); only those are checked, swapped and replaced, one by one.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from ci_sim.errors import InputError

#: Where results go when ``--out`` is not given.
RESULTS = Path("results")


def safe_name(name: str) -> str:
    """A folder name made from a scenario or experiment name: letters, digits, ``_``, ``-``
    and ``.`` only, never empty, ``.`` or ``..``, so it always stays inside its parent."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._")[:100]
    return cleaned or "unnamed"


def default_folder(name: str) -> Path:
    """``results/NAME`` for a scenario or experiment name (sanitized)."""
    return RESULTS / safe_name(name)


def check_folder_path(path: Path, option: str = "--out") -> None:
    """Refuse an output folder that is the current folder (or holds it) or is a file."""
    if str(path).strip() in ("", "."):
        raise InputError(f"{option}: give a folder name, such as results/NAME, got "
                         f"{str(path)!r}")
    resolved = path.resolve()
    if resolved == Path.cwd() or resolved in Path.cwd().parents:
        raise InputError(f"{option}: {path} is the current folder or holds it; give a "
                         f"folder name, such as results/NAME")
    if path.exists() and not path.is_dir():
        raise InputError(f"{option}: {path} is a file, not a folder")


def usual_mode(path: Path, mode: int) -> None:
    """Give a file or folder made by :mod:`tempfile` (private to its owner) the permissions
    a plain ``open`` or ``mkdir`` would: ``mode`` less the process's umask."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, mode & ~umask)


def fsync_path(path: Path) -> None:
    """Flush a file or a folder entry to disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    except OSError as error:  # some file systems cannot fsync folders
        if error.errno not in (errno.EINVAL, errno.EBADF):
            raise
    finally:
        os.close(descriptor)


def fsync_tree(root: Path) -> None:
    """Flush every file and folder under ``root`` (``root`` included) to disk."""
    for folder, _, files in os.walk(root):
        for name in files:
            fsync_path(Path(folder) / name)
        fsync_path(Path(folder))


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Write through a uniquely named temporary file next to ``path``, flush it to disk,
    then rename it over ``path``: readers see the old file or the whole new one."""
    descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial",
                                        dir=path.parent)
    os.close(descriptor)
    temporary = Path(name)
    try:
        write(temporary)
        usual_mode(temporary, 0o666)
        fsync_path(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    fsync_path(path.parent)


def exchange(first: Path, second: Path) -> None:
    """Swap two paths in one step where the system can (Linux), else with three renames."""
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    at_cwd, rename_exchange = -100, 2
    if renameat2 is not None and renameat2(at_cwd, os.fsencode(first), at_cwd,
                                           os.fsencode(second), rename_exchange) == 0:
        return
    aside = second.with_name(f"{second.name}.{os.getpid()}.old")
    os.rename(second, aside)
    os.rename(first, second)
    os.rename(aside, first)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class OutputFolder:
    """One command's output folder; use as a context manager yielding the staging folder.

    Args:
        path: the folder (``--out``).
        overwrite: replace results already there (``--overwrite``).
        members: the entries the command writes, relative to ``path`` (for a folder shared
            with other files); None when the whole folder is the command's.
        option: the option named in error messages.
    """

    def __init__(self, path: Path | str, *, overwrite: bool = False,
                 members: Sequence[str] | None = None, option: str = "--out"):
        self.path = Path(path)
        self.overwrite = overwrite
        self.members = members
        self.option = option
        self.staging: Path | None = None
        self._created: list[Path] = []

    # ------------------------------------------------------------------ checks
    def check(self) -> None:
        """Refuse a folder that holds results (unless overwriting) or cannot be one."""
        path, option = self.path, self.option
        check_folder_path(path, option)
        if self.overwrite:
            if self.members is None and path.is_dir():
                # one command's results are files only: a folder of folders is not one
                inner = sorted(entry.name for entry in os.scandir(path) if entry.is_dir())
                if inner:
                    raise InputError(f"{option}: {path} holds folders ({', '.join(inner[:3])}"
                                     f"{', ...' if len(inner) > 3 else ''}), not the results "
                                     f"of one command; --overwrite replaces a whole folder, "
                                     f"so give the folder of one command's results")
            return
        if self.members is None:
            if path.is_dir() and any(os.scandir(path)):
                raise InputError(f"{option}: {path} already holds results; pass --overwrite "
                                 f"to replace them, or choose another {option}")
        else:
            taken = [name for name in self.members if (path / name).exists()]
            if taken:
                raise InputError(f"{option}: {path / taken[0]} already exists; pass "
                                 f"--overwrite to replace {', '.join(self.members)} in {path}")

    def open(self) -> Path:
        """Check the folder and create the temporary sibling everything is written into."""
        self.check()
        parent = self.path.absolute().parent
        missing = [folder for folder in (parent, *parent.parents) if not folder.exists()]
        try:
            for folder in reversed(missing):
                folder.mkdir()
                self._created.append(folder)
            self.remove_stale(parent)
            self.staging = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.",
                                                 suffix=f".{os.getpid()}.tmp", dir=parent))
            usual_mode(self.staging, 0o777)
        except OSError as error:
            self.discard()
            raise InputError(f"{self.option}: cannot write in {self.path.parent} "
                             f"({error.strerror or error})") from None
        return self.staging

    def remove_stale(self, parent: Path) -> None:
        """Remove temporary folders of this folder that killed processes left behind."""
        for leftover in parent.glob(f".{glob_escape(self.path.name)}.*.tmp"):
            pid = leftover.name.rsplit(".", 2)[-2]
            if pid.isdigit() and not process_alive(int(pid)):
                shutil.rmtree(leftover, ignore_errors=True)

    # ------------------------------------------------------------------ finishing
    def publish(self) -> None:
        """Flush the staging folder to disk and put it in place with one rename."""
        staging = self.staging
        fsync_tree(staging)
        if self.members is None:
            if self.path.exists():
                exchange(staging, self.path)
            else:
                os.rename(staging, self.path)
        else:
            self.path.mkdir(parents=True, exist_ok=True)
            for name in self.members:
                source, target = staging / name, self.path / name
                if not source.exists():
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.exists():
                    exchange(source, target)
                else:
                    os.rename(source, target)
                fsync_path(target.parent)
        fsync_path(self.path.absolute().parent)
        shutil.rmtree(staging, ignore_errors=True)  # now the old set, if any
        self.staging = None

    def discard(self) -> None:
        """Remove the staging folder and any folders :meth:`open` created."""
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None
        for folder in reversed(self._created):
            with contextlib.suppress(OSError):
                folder.rmdir()
        self._created = []

    def __enter__(self) -> Path:
        return self.open()

    def __exit__(self, kind, error, traceback) -> None:
        if kind is None:
            try:
                self.publish()
            except OSError as failure:
                self.discard()
                raise InputError(f"{self.option}: cannot write {self.path} "
                                 f"({failure.strerror or failure}); nothing was changed"
                                 ) from None
            return
        self.discard()
        if isinstance(error, OSError):
            raise InputError(f"{self.option}: cannot write {self.path} "
                             f"({error.strerror or error}); nothing was changed") from None


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


def in_use_error(folder: Path, option: str) -> InputError:
    return InputError(f"{option}: {folder} is in use by another sweep, stress test or validation; "
                      f"wait for it to finish "
                      f"or choose another {option}")


def check_unlocked(folder: Path, option: str = "--out") -> None:
    """Refuse a folder another process holds the lock of (see :func:`locked`), without
    creating anything."""
    import fcntl

    try:
        handle = open(folder / ".lock", "rb")
    except OSError:
        return  # no lock file: nobody holds it
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            raise in_use_error(folder, option) from None


@contextlib.contextmanager
def locked(folder: Path, option: str = "--out") -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (created if needed) while the block runs.

    The lock is the ``.lock`` file's, held by this process (the system drops it when the
    process ends, however it ends). A folder created here and left holding nothing but the
    lock (the block wrote nothing) is removed again.

    Raises:
        InputError: another process holds the lock, or the folder cannot be created.
    """
    import fcntl

    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / ".lock", "a+")
    except OSError as error:
        raise InputError(f"{option}: cannot write in {folder} ({error.strerror or error})"
                         ) from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise in_use_error(folder, option) from None
        yield
    finally:
        if created and [entry.name for entry in os.scandir(folder)] == [".lock"]:
            os.unlink(folder / ".lock")
            folder.rmdir()
        handle.close()


def checkpoint_folder(out: Path) -> Path:
    """Where a study publishing into ``out`` keeps its runs until it has finished: a hidden
    sibling, ``.NAME.checkpoint``, so that ``out`` itself changes only when the results
    are published (see :func:`ci_sim.studies.study.checkpointed`)."""
    out = Path(out)
    return out.absolute().parent / f".{out.name}.checkpoint"
