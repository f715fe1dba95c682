"""Studies: every command that runs the model over many points and seeds.

One layer that sweeps, the stress test and validation all plan into
(:mod:`ci_sim.studies.study`): a design of points x replicate seeds, outcomes per run, one
checkpointed store that survives ``kill -9`` (:mod:`ci_sim.studies.store`), one executor
interface (:mod:`ci_sim.executors`), adaptive replicates until an interval is narrow enough,
one statistics module (:mod:`ci_sim.studies.stats`), one plotting module built on
``Figure`` objects (:mod:`ci_sim.studies.plotting`) and one way to draw each replicate's
parameters from a calibration's posterior (:mod:`ci_sim.studies.posterior`), which
``run`` and ``compare`` share with the studies. The studies themselves are thin
definitions on it: :mod:`ci_sim.studies.sweep`, :mod:`ci_sim.studies.stress`,
:mod:`ci_sim.studies.validation`.

Dependencies point one way: a study's report -> the study -> this layer -> the model.
"""
