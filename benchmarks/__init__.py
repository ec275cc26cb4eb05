"""Command-line benchmarks: ``python -m benchmarks <command> --help``.

Thin programs over the tested harness in :mod:`moe_tabular.ood`.
"""

import os

# The paper's simulation draws from numpy's SVD of an equicorrelated covariance,
# whose basis depends on the BLAS kernel: on AMD EPYC only the Haswell kernel of
# OpenBLAS draws the authors' data (see conftest.py). Set before numpy loads.
os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell")
