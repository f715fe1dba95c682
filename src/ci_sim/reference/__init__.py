"""Independent re-implementations of published models, used to dock ci-sim's special cases.

They share no code with :mod:`ci_sim.model.kernels` or :mod:`ci_sim.model`: each is written from
its paper, in plain numpy, so that agreement with the model is evidence rather than a
restatement.
"""
