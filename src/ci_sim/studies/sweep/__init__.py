"""Scenario sweeps and sensitivity analysis: which conditions drive outcomes?

An experiment file (``experiments/*.toml``, see :mod:`ci_sim.studies.sweep.experiment`)
declares what varies, how it is sampled (Sobol, Morris, FAST, Latin hypercube or a grid,
through SALib), what is measured and how many replicates each point gets. :func:`run_sweep`
plans it into a :class:`~ci_sim.studies.study.Study` and runs it on any executor,
checkpointing as it goes so that an interrupted sweep can be resumed; :func:`analyze_sweep`
recomputes the indices, their convergence and the PRIM scenario discovery from the saved
runs.
"""

from ci_sim.studies.sweep.experiment import Experiment, load_experiment
from ci_sim.studies.sweep.runner import SweepResult, analyze_sweep, plan_sweep, run_sweep

__all__ = ["Experiment", "SweepResult", "analyze_sweep", "load_experiment", "plan_sweep",
           "run_sweep"]
