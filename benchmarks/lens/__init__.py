"""The lens benchmarks: imputing cells (``imputation``) and the shift score as an OOD
detector (``shift``)."""
