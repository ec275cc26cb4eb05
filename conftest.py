"""Loaded by pytest before any test or doctest module imports numpy.

The paper's simulation draws a multivariate normal through numpy's SVD of an
equicorrelated covariance. Its repeated eigenvalue leaves the eigenvector basis
to the BLAS kernel: on AMD EPYC, OpenBLAS's own kernel draws other data than the
authors' generator (tests/test_simulation.py pins their rows), while the Haswell
kernel, which runs on any x86-64 CPU of the last decade, draws theirs. Set the
same variable before running the paper suites on such a machine.
"""

import os

os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell")
