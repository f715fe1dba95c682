"""Lazer & Friedman (2007), parallel problem solving on a network, in numpy.

Lazer, D., & Friedman, A. (2007). The network structure of exploration and exploitation.
Administrative Science Quarterly, 52(4), 667-694.

Written from the paper (the model section, pp. 672-675), independently of ci-sim's kernels;
ci-sim's special case (scenario ``validation/lazer_friedman2007``) is docked against it. The
program:

- An NK landscape (Kauffman 1993) with N = 20 choices and K = 5: each choice's contribution
  is drawn uniformly from [0, 1) for every combination of itself and the K other choices it
  depends on (drawn at random, without repetition); a solution's payoff is the mean
  contribution. Its score is (payoff / best payoff) ** 8, which spreads the scores out
  (p. 673).
- 100 agents start with random solutions. Each round, synchronously, every agent looks at
  its network neighbours' scores of the previous round: if the best of them beats its own,
  it copies that neighbour's whole solution; otherwise it changes one choice at random and
  keeps the change if it scores better.
- Networks: linear (a ring, two neighbours each), totally connected, random (a G(n, m)
  graph with mean degree 6) and small world (a ring of 6 neighbours each with ties rewired
  with probability 0.1; Watts & Strogatz 1998).
- Measured: the agents' mean score each round.

Ties in "the best neighbour" are broken by the lowest index; solutions are bit vectors.
"""

from __future__ import annotations

import numpy as np

CHOICES = 20
INTERDEPENDENCE = 5
AGENTS = 100
EXPONENT = 8.0
NETWORKS = ("linear", "small_world", "random", "full")


def landscape(rng: np.random.Generator, n: int = CHOICES, k: int = INTERDEPENDENCE
              ) -> tuple[np.ndarray, np.ndarray, float]:
    """(dependencies (n, k+1), contributions (n, 2**(k+1)), best payoff by enumeration)."""
    deps = np.array([[j, *rng.choice(np.delete(np.arange(n), j), size=k, replace=False)]
                     for j in range(n)])
    table = rng.random((n, 2 ** (k + 1)))
    return deps, table, best_payoff(deps, table)


def payoffs(solutions: np.ndarray, deps: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Mean contribution of each row of ``solutions`` (bits)."""
    n = solutions.shape[1]
    total = np.zeros(len(solutions))
    for j in range(n):
        index = np.zeros(len(solutions), dtype=np.int64)
        for d in deps[j]:
            index = index * 2 + solutions[:, d]
        total += table[j, index]
    return total / n


def network(kind: str, rng: np.random.Generator, agents: int = AGENTS, degree: int = 6,
            rewiring: float = 0.1) -> list[np.ndarray]:
    """Each agent's neighbours, for one of :data:`NETWORKS`."""
    ties: set[tuple[int, int]] = set()
    if kind == "linear":
        ties = {(i, (i + 1) % agents) for i in range(agents)}
    elif kind == "full":
        ties = {(i, j) for i in range(agents) for j in range(i + 1, agents)}
    elif kind == "random":
        while len(ties) < agents * degree // 2:
            i, j = rng.integers(agents, size=2)
            if i != j:
                ties.add((min(i, j), max(i, j)))
    elif kind == "small_world":
        ring = [(i, (i + s) % agents) for i in range(agents) for s in range(1, degree // 2 + 1)]
        ties = {(min(i, j), max(i, j)) for i, j in ring}
        for i, j in ring:
            if rng.random() < rewiring:
                others = [o for o in range(agents) if o != i
                          and (min(i, o), max(i, o)) not in ties]
                if others:
                    ties.discard((min(i, j), max(i, j)))
                    o = others[rng.integers(len(others))]
                    ties.add((min(i, o), max(i, o)))
    else:
        raise ValueError(f"network must be one of {', '.join(NETWORKS)}, got {kind!r}")
    neighbours: list[list[int]] = [[] for _ in range(agents)]
    for i, j in ties:
        neighbours[i].append(j)
        neighbours[j].append(i)
    return [np.array(sorted(row), dtype=np.int64) for row in neighbours]


def best_payoff(deps: np.ndarray, table: np.ndarray) -> float:
    """The landscape's best payoff, by enumerating all 2**N solutions."""
    n = len(deps)
    states = np.arange(2 ** n, dtype=np.int64)
    total = np.zeros(2 ** n)
    for j in range(n):
        index = np.zeros(2 ** n, dtype=np.int64)
        for d in deps[j]:
            index = index * 2 + ((states >> d) & 1)
        total += table[j, index]
    return float(total.max() / n)


def simulate(kind: str, rounds: int, rng: np.random.Generator, *, agents: int = AGENTS,
             problem: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """One run: the agents' mean score after each round 0 .. ``rounds`` (round 0: start).

    ``problem`` = (dependencies, contributions) gives the landscape (for runs paired with
    another implementation on the same problem); by default one is drawn from ``rng``.
    """
    if problem is None:
        deps, table, best = landscape(rng)
    else:
        deps, table = problem
        best = best_payoff(deps, table)
    neighbours = network(kind, rng, agents)
    solutions = rng.integers(0, 2, size=(agents, CHOICES))
    score = payoffs(solutions, deps, table) / best
    path = [np.mean(score ** EXPONENT)]
    width = max(len(row) for row in neighbours)
    padded = np.full((agents, max(width, 1)), -1, dtype=np.int64)
    for i, row in enumerate(neighbours):
        padded[i, :len(row)] = row
    present = padded >= 0
    everyone = np.arange(agents)
    for _ in range(rounds):
        seen = np.where(present, score[np.where(present, padded, 0)], -np.inf)
        best_slot = np.argmax(seen, axis=1)  # the first best neighbour
        model = padded[everyone, best_slot]
        copies = seen[everyone, best_slot] > score
        new = solutions.copy()
        new_score = score.copy()
        new[copies] = solutions[model[copies]]
        new_score[copies] = score[model[copies]]
        who = np.flatnonzero(~copies)
        trial = solutions[who].copy()
        trial[np.arange(len(who)), rng.integers(CHOICES, size=len(who))] ^= 1
        trial_score = payoffs(trial, deps, table) / best
        better = trial_score > score[who]
        new[who[better]] = trial[better]
        new_score[who[better]] = trial_score[better]
        solutions, score = new, new_score
        path.append(np.mean(score ** EXPONENT))
    return np.array(path)
