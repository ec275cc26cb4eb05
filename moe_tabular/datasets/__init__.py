"""Offline loaders for tables with a natural domain column.

Auto MPG ships inside ``vega_datasets``; the UCI tables are read from a
directory the user gives (``data_dir``), never from the network.
"""

from ._loaders import (
    TabularDataset,
    load_adult,
    load_auto_mpg,
    load_bank_marketing,
    load_diabetes_130,
    load_heart_disease,
)

__all__ = [
    "TabularDataset",
    "load_adult",
    "load_auto_mpg",
    "load_bank_marketing",
    "load_diabetes_130",
    "load_heart_disease",
]
