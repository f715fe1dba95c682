"""March (1991), mutual learning between an organizational code and its members, in numpy.

March, J. G. (1991). Exploration and exploitation in organizational learning. Organization
Science, 2(1), 71-87.

Written from the paper (pp. 73-75, 79), independently of ci-sim's kernels; ci-sim's special
case (``problem.initial_beliefs = "march"``, scenario ``march1991_learning_rates``) is docked
against it by ``ci-sim validate``. The program:

- Reality is m dimensions, each +1 or -1 with equal chance. The code starts undecided (0)
  on every dimension; each of the n members believes -1, 0 or +1 on each dimension with
  equal chance.
- Each period every member acts: a belief of +1 or -1 is played as held, an undecided one
  as a fair coin flip. A member's performance is right minus wrong over its actions; the
  code's is right minus wrong over the code (an undecided dimension counts as neither).
- The superior group is the members whose performance exceeds the code's. On each
  dimension where the majority of the superior group's actions differs from the code, the
  code takes the majority view with probability 1 - (1 - p2)^k, k = majority minus
  minority (p. 74).
- Socialization: on each dimension where the code holds a view the member does not share,
  the member's belief moves one step towards it (-1 -> 0 -> +1) with probability p1.
- Both updates use the state at the start of the period (the code learns from the actions
  taken on the starting beliefs; members are socialized to the starting code).
- Turnover (p. 79): each period each member leaves with probability p3 and is replaced by
  a newcomer with naive beliefs (-1, 0, +1 equally likely), before the period's actions.
- Knowledge of the code, the measure March plots: (right - wrong) / m.

With p3 = 0 the system is closed and a run ends at equilibrium: once the code holds a view
on every dimension and every member shares it, every action equals the code, no member
beats it and no one is socialized, so nothing can change again.
"""

from __future__ import annotations

import numpy as np

#: Dimensions of reality and members of the organization in March's Figure 1.
DIMENSIONS = 30
MEMBERS = 50
#: Periods after which a run that has not reached equilibrium is measured as it stands.
MAX_PERIODS = 1200


def simulate(p1: float, p2: float, runs: int, rng: np.random.Generator, *, p3: float = 0.0,
             m: int = DIMENSIONS, n: int = MEMBERS, periods: int = MAX_PERIODS,
             until_equilibrium: bool = True) -> dict[str, np.ndarray]:
    """Run ``runs`` independent organizations side by side.

    Returns ``knowledge`` (the code's (right - wrong) / m at the end of each run),
    ``periods`` (periods run) and ``equilibrium`` (whether the run ended absorbed).
    """
    reality = rng.choice(np.array([-1, 1], dtype=np.int16), size=(runs, m))
    code = np.zeros((runs, m), dtype=np.int16)
    beliefs = rng.integers(-1, 2, size=(runs, n, m)).astype(np.int16)
    knowledge = np.zeros(runs)
    ran = np.zeros(runs, dtype=np.int64)
    absorbed = np.zeros(runs, dtype=bool)
    live = np.arange(runs)  # runs still going; the arrays hold only these
    for _ in range(periods):
        if until_equilibrium:
            done = (code != 0).all(axis=1) & (beliefs == code[:, None, :]).all(axis=(1, 2))
            if done.any():
                absorbed[live[done]] = True
                knowledge[live[done]] = (code[done] * reality[done]).sum(axis=1) / m
                keep = ~done
                live, reality, code, beliefs = live[keep], reality[keep], code[keep], beliefs[keep]
            if len(live) == 0:
                break
        if p3 > 0:
            leaving = rng.random((len(live), n)) < p3
            beliefs[leaving] = rng.integers(-1, 2, size=(int(leaving.sum()), m))
        flips = np.where(rng.random(beliefs.shape) < 0.5, -1, 1).astype(np.int16)
        actions = np.where(beliefs == 0, flips, beliefs)
        performance = (actions * reality[:, None, :]).sum(axis=2)
        code_performance = (code * reality).sum(axis=1)
        superior = performance > code_performance[:, None]
        votes = (actions * superior[:, :, None]).sum(axis=1)
        majority = np.sign(votes)
        adopt = (majority != 0) & (majority != code) & \
            (rng.random(code.shape) < 1.0 - (1.0 - p2) ** np.abs(votes))
        target = code[:, None, :]
        socialized = (target != 0) & (beliefs != target) & (rng.random(beliefs.shape) < p1)
        beliefs += (socialized * np.sign(target - beliefs)).astype(np.int16)
        code = np.where(adopt, majority, code).astype(np.int16)
        ran[live] += 1
    knowledge[live] = (code * reality).sum(axis=1) / m
    return {"knowledge": knowledge, "periods": ran, "equilibrium": absorbed}
