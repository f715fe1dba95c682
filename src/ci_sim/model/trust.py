"""Trust between organizations, stored per tie (ODD 7.10).

Trust $T_{ij}$ (0..1) is defined for every ordered pair of organizations, but it only changes
when i meets j, and i can only meet the organizations on its meeting list (``neighbours``:
network neighbours for the whole run, then working-group mates for a quarter at a time).
So trust is held where it can change and where it has changed, never as an n x n matrix:

- ``ties``: an array of the meeting lists' shape, ``ties[i, d]`` = i's trust in
  ``neighbours[i, d]``; what the kernels read and write every month. Slots past
  ``degree[i]`` hold NaN.
- a store of the trust in former working-group mates: sorted keys ``i * n + j`` and the
  trust i had in j when their group tie last ended, searched with ``numpy.searchsorted``.
  When groups re-form, the group slots' trust is written to the store and the new group
  slots take theirs from it (:func:`ci_sim.model.month.store_group_ties` and
  :func:`~ci_sim.model.month.load_group_ties`), so a pair that meets again later carries
  its trust over exactly. Pairs whose trust is still ``trust.initial`` are not stored (that is the
  default). A pair back on a meeting list keeps its (now older) entry: while it is on the
  list, ``ties`` holds its trust and is what is read; when the tie ends again, its entry is
  overwritten. So a regrouping writes in place and inserts only pairs new to the store,
  instead of rebuilding the store twice.

Memory is O(n x meeting slots) plus the pairs that have been group mates and whose trust
has moved from ``trust.initial``; the monthly kernels loop over ``ties`` like any other
array.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ci_sim.errors import InputError

#: Largest field whose trust can be asked for as a dense n x n array (``TieTrust.dense``):
#: 5,000 organizations make 200 MB.
DENSE_LIMIT = 5000

#: Pairs looked up at once by :meth:`TieTrust.of` (bounds its temporary arrays to a few MB).
CHUNK = 1 << 16


class TieTrust:
    """Trust of each organization in each other, 0..1, stored per tie.

    Read it as ``trust.of(i, j)`` or ``trust[i, j]`` for one pair or for arrays of pairs
    (broadcast together as numpy does), like the n x n matrix it stands for: ``shape`` is
    ``(n, n)``, an organization's trust in itself is 1. ``ties`` is the per-tie array the
    kernels update.

    Args:
        neighbours: the model's meeting lists, n x slots, padded with -1; read in place, so
            the model's later changes to them are seen.
        degree: valid slots of each row of ``neighbours`` (read in place).
        network_degree: network neighbours of each organization, the first slots of its row;
            later valid slots are working-group ties.
        initial: trust between organizations that have never met (``trust.initial``).
    """

    def __init__(self, neighbours: np.ndarray, degree: np.ndarray,
                 network_degree: np.ndarray, initial: float) -> None:
        self.neighbours = neighbours
        self.degree = degree
        self.network_degree = network_degree
        self.initial = float(initial)
        self.count = neighbours.shape[0]
        in_use = self._slots(0, degree)
        #: Trust of i in its d-th meeting partner ``neighbours[i, d]``; NaN in unused slots.
        self.ties = np.full(neighbours.shape, np.nan)
        self.ties[in_use] = np.where(
            neighbours[in_use] == np.nonzero(in_use)[0], 1.0, self.initial)
        #: Former working-group ties: keys i * n + j (sorted) and the trust i had in j when
        #: their tie last ended (for a pair on the meeting list now, ``ties`` holds it), in
        #: the first ``stored[0]`` entries of arrays with room for more (:meth:`reserve`).
        self.keys = np.empty(0, dtype=np.int64)
        self.values = np.empty(0)
        self.stored = np.zeros(1, dtype=np.int64)

    @property
    def stored_keys(self) -> np.ndarray:
        """Keys ``i * n + j`` of the former working-group ties in the store, sorted."""
        return self.keys[:self.stored[0]]

    @property
    def stored_trust(self) -> np.ndarray:
        """The trust i had in j when their working-group tie last ended, by stored key."""
        return self.values[:self.stored[0]]

    def reserve(self, room: int) -> None:
        """Make room for at least ``room`` more pairs in the store (at least doubling it when
        it grows, so a run enlarges it a few times at most)."""
        count = int(self.stored[0])
        if self.keys.shape[0] - count >= room:
            return
        size = max(2 * self.keys.shape[0], count + room)
        keys, values = np.empty(size, dtype=np.int64), np.empty(size)
        keys[:count], values[:count] = self.keys[:count], self.values[:count]
        self.keys, self.values = keys, values

    @property
    def shape(self) -> tuple[int, int]:
        """(n, n): the matrix trust stands for."""
        return (self.count, self.count)

    @property
    def nbytes(self) -> int:
        """Bytes held for trust: the per-tie array and the store of former group ties."""
        return self.ties.nbytes + self.keys.nbytes + self.values.nbytes

    def _slots(self, first: np.ndarray | int, last: np.ndarray) -> np.ndarray:
        """Mask of the slots ``first[i] <= d < last[i]`` of each row."""
        d = np.arange(self.neighbours.shape[1])
        return (d >= np.reshape(first, (-1, 1))) & (d < np.reshape(last, (-1, 1)))

    def _find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each of ``keys`` is, or would be inserted, in the store, and whether it
        is there."""
        at = np.searchsorted(self.stored_keys, keys)
        found = np.zeros(keys.shape[0], dtype=np.bool_)
        inside = at < self.stored_keys.shape[0]
        found[inside] = self.stored_keys[at[inside]] == keys[inside]
        return at, found

    def _lookup(self, keys: np.ndarray) -> np.ndarray:
        """Stored trust of the pairs ``keys``, ``initial`` where none is stored."""
        at, found = self._find(keys)
        trust = np.full(keys.shape[0], self.initial)
        trust[found] = self.stored_trust[at[found]]
        return trust

    def of(self, i: Any, j: Any) -> Any:
        """Trust of organization ``i`` in organization ``j``, 0..1: a float for two indices,
        an array for index arrays (broadcast together). 1 for an organization in itself,
        ``trust.initial`` for a pair that has never met.

        Raises:
            IndexError: for an index that is not an organization (0 .. n - 1).
        """
        first, second = np.broadcast_arrays(np.asarray(i), np.asarray(j))
        for index in (first, second):
            if not np.issubdtype(index.dtype, np.integer):
                raise IndexError(f"trust: organizations are integer indices, got {index.dtype}")
            if index.size and (index.min() < 0 or index.max() >= self.count):
                raise IndexError(f"trust: organizations are 0 .. {self.count - 1}, got "
                                 f"{int(index.min())} .. {int(index.max())}")
        rows = first.astype(np.int64).ravel()
        columns = second.astype(np.int64).ravel()
        trust = np.empty(rows.shape[0])
        for start in range(0, rows.shape[0], CHUNK):
            part = slice(start, start + CHUNK)
            trust[part] = self._of(rows[part], columns[part])
        return float(trust[0]) if first.ndim == 0 else trust.reshape(first.shape)

    def _of(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        slot = self.neighbours[rows] == columns[:, None]
        slot &= np.arange(slot.shape[1]) < self.degree[rows][:, None]
        on_list = slot.any(axis=1)
        trust = np.where(rows == columns, 1.0, self.initial)
        trust[on_list] = self.ties[rows[on_list], slot[on_list].argmax(axis=1)]
        away = ~on_list & (rows != columns)
        trust[away] = self._lookup(rows[away] * np.int64(self.count) + columns[away])
        return trust

    def __getitem__(self, key: Any) -> Any:
        """``trust[i, j]``: :meth:`of` (indices or integer index arrays, no slices)."""
        if not isinstance(key, tuple) or len(key) != 2 or any(
                isinstance(part, slice) or part is Ellipsis or part is None for part in key):
            raise IndexError("trust[i, j] takes two organizations (integers or integer "
                             "arrays), not slices; use trust.dense() for the whole matrix")
        return self.of(*key)

    def dense(self) -> np.ndarray:
        """The n x n matrix, row i = i's trust in each organization (at most
        :data:`DENSE_LIMIT` organizations).

        Raises:
            InputError: for a larger field, whose matrix would not fit comfortably.
        """
        if self.count > DENSE_LIMIT:
            raise InputError(f"trust.dense: {self.count:,} organizations would make a "
                              f"{self.count ** 2 * 8 / 1e9:,.1f} GB matrix (at most "
                              f"{DENSE_LIMIT:,} organizations); read pairs with trust.of(i, j)")
        matrix = np.full((self.count, self.count), self.initial)
        np.fill_diagonal(matrix, 1.0)
        rows, columns = np.divmod(self.stored_keys, self.count)
        matrix[rows, columns] = self.stored_trust
        rows, slots = np.nonzero(self._slots(0, self.degree))
        matrix[rows, self.neighbours[rows, slots]] = self.ties[rows, slots]
        return matrix

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        matrix = self.dense()
        return matrix if dtype is None else matrix.astype(dtype)

    def copy(self) -> TieTrust:
        """A snapshot: the same trust, unaffected by later months of the model."""
        snapshot = TieTrust.__new__(TieTrust)
        snapshot.__dict__.update(self.__dict__)
        for name in ("neighbours", "degree", "network_degree", "ties", "keys", "values",
                     "stored"):
            setattr(snapshot, name, getattr(self, name).copy())
        return snapshot
