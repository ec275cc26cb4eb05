"""Fit time, predict throughput and memory beside the peers (``perf``), training
budgets (``budget``), one training step profiled (``profile``) and predict memory
(``predict-memory``)."""
