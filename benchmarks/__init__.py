"""Command-line benchmarks: ``python -m benchmarks <command> --help``.

Thin programs over the tested harness in :mod:`moe_tabular.ood`.
"""
