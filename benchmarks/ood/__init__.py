"""The OOD accuracy benchmark (``ood``) and the paired comparison of its runs
(``paired``)."""
