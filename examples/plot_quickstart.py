"""
===========
Quick start
===========

Fit :class:`~moe_tabular.MoECBOWClassifier` on a small mixed table, predict rows
with missing values and an unseen category, and look at how the table was read.

The model treats every column as a word position and every row as a sentence:
categorical columns are words as they are, numeric columns are cut into quantile
bins, and the target is one more column that is masked at prediction time.
"""

# %%
# A mixed table
# -------------
# How people commute, from the trip's distance, the weather, whether they own a
# car and their age. ``weather`` is categorical (strings), ``car``
# is boolean, ``distance_km`` and ``age`` are numeric, and ``age`` has missing
# values. None of this needs preprocessing.
import numpy as np
import pandas as pd

rng = np.random.default_rng(0)
n = 600
distance = rng.gamma(2.0, 4.0, n).round(1)
weather = rng.choice(["sun", "rain", "snow"], n, p=[0.6, 0.3, 0.1])
car = rng.random(n) < 0.5
age = rng.integers(18, 75, n).astype(float)
age[rng.random(n) < 0.1] = np.nan

mode = np.where(distance < 3, "walk", np.where(distance < 10, "bike", "bus"))
mode = np.where((weather != "sun") & (mode == "bike"), "bus", mode)
mode = np.where(car & (distance > 6), "car", mode)
noise = rng.random(n) < 0.1  # one trip in ten ignores the rules
mode = np.where(noise, rng.choice(["walk", "bike", "bus", "car"], n), mode)

X = pd.DataFrame(
    {
        "distance_km": distance,
        "weather": weather,
        "car": car,
        "age": age,
    }
)
y = pd.Series(mode, name="mode")
X.head()

# %%
# Fit and score
# -------------
# The estimator follows the scikit-learn API. With the default 200 epochs the fit
# takes a few seconds on a CPU.
from sklearn.model_selection import train_test_split

from moe_tabular import MoECBOWClassifier

X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
clf = MoECBOWClassifier(random_state=0).fit(X_train, y_train)
print(f"test accuracy: {clf.score(X_test, y_test):.3f}")

# %%
# Predict awkward rows
# --------------------
# ``hail`` never occurs in the training data: it becomes the ``weather``
# column's UNKNOWN token. Missing values (``None``, ``NaN``) become MISSING
# tokens. Both predict without an error.
new = pd.DataFrame(
    {
        "distance_km": [1.5, 8.0, 8.0, 25.0],
        "weather": ["sun", "hail", "sun", None],
        "car": [False, False, True, None],
        "age": [30.0, np.nan, 45.0, 60.0],
    }
)
proba = pd.DataFrame(clf.predict_proba(new), columns=clf.classes_)
proba.insert(0, "predicted", clf.predict(new))
proba.round(2)

# %%
# How the table was read
# ----------------------
# ``layout_`` shows how the model read each column: its kind and number of
# categories (``distance_km`` and ``age`` got quantile bins, ``weather`` three
# categories and ``car`` two), whether it shares the one vocabulary of ordered
# columns, and its first token id. Each column also has three reserved tokens
# (MASK, MISSING, UNKNOWN) just before its first one.
clf.layout_.reset_index()

# %%
# The fitted :class:`~moe_tabular.ColumnTokenizer` turns the new rows into codes
# within each column: category ``k`` is ``k``; the UNKNOWN ``hail`` is -1 and the
# MISSING cells -2.
tokenizer = clf.tokenizer_
pd.DataFrame(tokenizer.transform(new), columns=tokenizer.feature_names_in_)

# %%
# Training curve
# --------------
# ``history_`` records the masked-column loss of every epoch: the mean
# cross-entropy of each column predicted from all the others, target included.
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(clf.history_["epoch"], clf.history_["train_loss"])
ax.set_xlabel("epoch")
ax.set_ylabel("masked-column loss")
ax.set_title("Training loss")
fig.tight_layout()
plt.show()
