"""Loaders for three all-categorical UCI tables read from ``data_dir``.

Car Evaluation, Mushroom and Nursery have no domain column of their own: each
loader names the feature that plays the role of a sub-population and holds
some of its values out. All three are near-deterministic (a tree fits each
almost perfectly in distribution), so what they measure is how a model
extends what it learned to unseen combinations, not how it copes with noise.
"""

import numpy as np
import pandas as pd

from ._loaders import TabularDataset, _find_file

__all__ = ["load_car_evaluation", "load_mushroom", "load_nursery"]


def _ordered(frame, levels):
    """Give each column of ``levels`` an ordered category dtype, in that order."""
    for column, values in levels.items():
        dtype = pd.CategoricalDtype(values, ordered=True)
        if not frame[column].isin(values).all():
            unknown = sorted(set(frame[column]) - set(values))
            raise ValueError(f"Column {column!r} has unexpected values {unknown}.")
        frame[column] = frame[column].astype(dtype)
    return frame


# Levels from worst to best, as the UCI ``car.names`` lists them (reversed).
_CAR_LEVELS = {
    "buying": ["vhigh", "high", "med", "low"],
    "maint": ["vhigh", "high", "med", "low"],
    "doors": ["2", "3", "4", "5more"],
    "persons": ["2", "4", "more"],
    "lug_boot": ["small", "med", "big"],
    "safety": ["low", "med", "high"],
}


def load_car_evaluation(*, data_dir):
    """Load UCI Car Evaluation; the domain is the buying price.

    Reads ``car.data`` (1,728 rows, the full Cartesian product of the six
    features) from ``data_dir`` or ``data_dir/car-evaluation``. Every feature is
    an ordered category (worst to best, as listed in ``car.names``); the target
    ``class`` is one of ``"unacc"``, ``"acc"``, ``"good"``, ``"vgood"``
    (1,210 / 384 / 69 / 65 rows).

    Why ``buying``: the price segment is the sub-population a car dealer's
    model would be moved across, and it shifts the label: ``"good"`` and
    ``"vgood"`` occur only for ``med`` and ``low`` prices, and the share of
    ``"unacc"`` falls from 0.83 (``vhigh``) to 0.60 (``low``). Suggested split:
    train on ``vhigh``, ``high`` and ``med`` (1,296 rows), test on ``low``
    (432 rows), the cheapest cars, where good and very good cars are most
    frequent. ``safety`` would be a poor domain: ``safety="low"`` makes every
    car ``"unacc"``.

    The table comes from a hand-written decision model (DEX), so it is
    deterministic: the class is a function of the six features and a fully
    grown tree fits every row. Errors come from unseen combinations, not from
    noise; the OOD test asks whether a model extends the learned rules to an
    unseen price.

    Parameters
    ----------
    data_dir : str or path-like
        Directory holding ``car.data``, directly or in ``car-evaluation/``.

    Returns
    -------
    data : TabularDataset
        1,728 rows, six ordered-category features, ``buying`` among them;
        ``target="class"`` (strings), ``domain="buying"``.

    Examples
    --------
    >>> from moe_tabular.datasets import load_car_evaluation
    >>> data = load_car_evaluation(data_dir="datasets")  # doctest: +SKIP
    >>> data.frame.shape, data.test_domains  # doctest: +SKIP
    ((1728, 7), ('low',))
    """
    path = _find_file(data_dir, "car-evaluation", "car.data")
    names = [*_CAR_LEVELS, "class"]
    frame = pd.read_csv(path, header=None, names=names, dtype=str)
    frame = _ordered(frame, _CAR_LEVELS)
    return TabularDataset(frame, "class", "buying", ("vhigh", "high", "med"), ("low",))


# One-letter codes of ``agaricus-lepiota.names``, decoded.
_MUSHROOM_CODES = {
    "cap_shape": "b=bell c=conical x=convex f=flat k=knobbed s=sunken",
    "cap_surface": "f=fibrous g=grooves y=scaly s=smooth",
    "cap_color": "n=brown b=buff c=cinnamon g=gray r=green p=pink u=purple e=red "
    "w=white y=yellow",
    "bruises": "t=bruises f=no",
    "odor": "a=almond l=anise c=creosote y=fishy f=foul m=musty n=none p=pungent "
    "s=spicy",
    "gill_attachment": "a=attached d=descending f=free n=notched",
    "gill_spacing": "c=close w=crowded d=distant",
    "gill_size": "b=broad n=narrow",
    "gill_color": "k=black n=brown b=buff h=chocolate g=gray r=green o=orange "
    "p=pink u=purple e=red w=white y=yellow",
    "stalk_shape": "e=enlarging t=tapering",
    "stalk_root": "b=bulbous c=club u=cup e=equal z=rhizomorphs r=rooted",
    "stalk_surface_above_ring": "f=fibrous y=scaly k=silky s=smooth",
    "stalk_surface_below_ring": "f=fibrous y=scaly k=silky s=smooth",
    "stalk_color_above_ring": "n=brown b=buff c=cinnamon g=gray o=orange p=pink "
    "e=red w=white y=yellow",
    "stalk_color_below_ring": "n=brown b=buff c=cinnamon g=gray o=orange p=pink "
    "e=red w=white y=yellow",
    "veil_type": "p=partial u=universal",
    "veil_color": "n=brown o=orange w=white y=yellow",
    "ring_number": "n=none o=one t=two",
    "ring_type": "c=cobwebby e=evanescent f=flaring l=large n=none p=pendant "
    "s=sheathing z=zone",
    "spore_print_color": "k=black n=brown b=buff h=chocolate r=green o=orange "
    "u=purple w=white y=yellow",
    "population": "a=abundant c=clustered n=numerous s=scattered v=several y=solitary",
    "habitat": "g=grasses l=leaves m=meadows p=paths u=urban w=waste d=woods",
}


def load_mushroom(*, data_dir):
    """Load UCI Mushroom; the domain is the ``habitat`` where it was found.

    Reads ``agaricus-lepiota.data`` (8,124 mushrooms of 23 species) from
    ``data_dir`` or ``data_dir/mushroom``. The one-letter codes become the
    names listed in ``agaricus-lepiota.names`` (unordered categories of the
    values that occur; column names with ``_`` for ``-``); ``"?"`` in
    ``stalk_root`` (2,480 rows) is missing. ``veil_type`` is dropped: it has
    the single value ``"partial"``. The target ``poisonous`` is 1 for
    poisonous or unknown edibility (3,916 rows), 0 for edible.

    Why ``habitat``: where a mushroom grows is the site a forager samples,
    and it shifts both the species mix and the label (P(poisonous) from 0 on
    waste ground to 0.88 on paths). Suggested split: train on undisturbed
    ground (woods, grasses, leaves, meadows: 6,420 rows), test on ground
    disturbed by people (paths, urban, waste: 1,704 rows, 75% poisonous
    against 41% in training). ``odor`` would be a poor domain: it nearly
    decides the label, so holding odours out tests label shift only.

    The table is near-deterministic: ``odor`` alone gives 98.5% accuracy
    and trees reach 100% in distribution.

    Parameters
    ----------
    data_dir : str or path-like
        Directory holding ``agaricus-lepiota.data``, directly or in
        ``mushroom/``.

    Returns
    -------
    data : TabularDataset
        8,124 rows, 20 category features plus ``habitat`` (categories: the
        names seen, sorted);
        ``target="poisonous"`` (0/1), ``domain="habitat"``.

    Examples
    --------
    >>> from moe_tabular.datasets import load_mushroom
    >>> data = load_mushroom(data_dir="datasets")  # doctest: +SKIP
    >>> data.test_domains  # doctest: +SKIP
    ('paths', 'urban', 'waste')
    """
    path = _find_file(data_dir, "mushroom", "agaricus-lepiota.data")
    names = ["class", *_MUSHROOM_CODES]
    frame = pd.read_csv(path, header=None, names=names, dtype=str, na_values="?")
    for column, codes in _MUSHROOM_CODES.items():
        mapping = dict(pair.split("=") for pair in codes.split())
        frame[column] = frame[column].map(mapping).astype("category")
    frame = frame.drop(columns="veil_type")
    frame["poisonous"] = (frame.pop("class") == "p").astype(np.int64)
    train = ("grasses", "leaves", "meadows", "woods")
    return TabularDataset(
        frame, "poisonous", "habitat", train, ("paths", "urban", "waste")
    )


# Levels in the order ``nursery.names`` lists them (from the SOURCE note).
_NURSERY_LEVELS = {
    "parents": ["usual", "pretentious", "great_pret"],
    "has_nurs": ["proper", "less_proper", "improper", "critical", "very_crit"],
    "form": ["complete", "completed", "incomplete", "foster"],
    "children": ["1", "2", "3", "more"],
    "housing": ["convenient", "less_conv", "critical"],
    "finance": ["convenient", "inconv"],
    "social": ["nonprob", "slightly_prob", "problematic"],
    "health": ["recommended", "priority", "not_recom"],
}


def load_nursery(*, data_dir):
    """Load UCI Nursery; the domain is the parents' occupation.

    Reads ``nursery.data`` (or ``nursery.data.gz``; 12,960 applications to
    nursery schools in Ljubljana, the full Cartesian product of the eight
    features) from ``data_dir`` or ``data_dir/nursery``. Every feature is an
    ordered category in the order of the UCI description. The target
    ``class`` has four values: ``"not_recom"``, ``"priority"``,
    ``"spec_prior"`` and ``"very_recom"``; the two rows of ``"recommend"``, the
    level next to ``"very_recom"``, are merged into it (two rows cannot be
    learned and break stratified splits).

    Why ``parents``: the parents' occupation is the group an admissions model
    would meet in new proportions, and it shifts the label: ``"spec_prior"``
    goes from 18% of ``usual`` to 47% of ``great_pret`` applications, and
    ``"very_recom"`` never occurs for ``great_pret``. Suggested split: train on
    ``usual`` and ``pretentious`` (8,640 rows), test on ``great_pret`` (4,320).
    ``health`` would be a poor domain: ``health="not_recom"`` always gives
    ``"not_recom"``.

    The table comes from a hand-written decision model (DEX), so it is
    deterministic: the class is a function of the eight features and a fully
    grown tree fits every row; errors come from unseen combinations.

    Parameters
    ----------
    data_dir : str or path-like
        Directory holding the file, directly or in ``nursery/``.

    Returns
    -------
    data : TabularDataset
        12,960 rows, eight ordered-category features, ``parents`` among them;
        ``target="class"`` (strings), ``domain="parents"``.

    Examples
    --------
    >>> from moe_tabular.datasets import load_nursery
    >>> data = load_nursery(data_dir="datasets")  # doctest: +SKIP
    >>> data.frame.shape, data.test_domains  # doctest: +SKIP
    ((12960, 9), ('great_pret',))
    """
    path = _find_file(data_dir, "nursery", "nursery.data")
    names = [*_NURSERY_LEVELS, "class"]
    frame = pd.read_csv(path, header=None, names=names, dtype=str)
    frame = _ordered(frame, _NURSERY_LEVELS)
    frame["class"] = frame["class"].replace("recommend", "very_recom")
    return TabularDataset(
        frame, "class", "parents", ("usual", "pretentious"), ("great_pret",)
    )
