"""
=====================================================
The MoE lens: expert weights, imputation, shift score
=====================================================

A fitted :class:`~moe_tabular.MoECBOWClassifier` is a mixture of column experts:
to predict a masked column, every other column votes with its value embedding,
weighted by an attention gate. This example reads the model four ways on the
Auto MPG cars (trained on American cars, as in the paper):

1. the **expert weights**: which columns the prediction of ``mpg`` leans on;
2. **imputation**: the masked-column predictions fill missing cells;
3. the **shift score**: the pseudo-log-likelihood flags European and Japanese
   cars as atypical;
4. the learned **embeddings** of tokens and columns.
"""

# %%
# A model of American cars
# ------------------------
# The paper's preprocessing: ``mpg`` (the target) and five numeric columns cut
# into 3 quantile bins, ``cylinders`` coded 0/1/2. We fit on 70% of the USA cars
# and keep the rest, and the other origins, for later. ``origin`` is not a
# feature.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from moe_tabular import MoECBOWClassifier
from moe_tabular.datasets import load_auto_mpg

data = load_auto_mpg()
X = data.X.drop(columns=data.domain)
usa = (data.frame[data.domain] == "USA").to_numpy()
train, held_out = train_test_split(np.flatnonzero(usa), test_size=0.3, random_state=0)
clf = MoECBOWClassifier(random_state=0).fit(X.iloc[train], data.y.iloc[train])
accuracy = clf.score(X.iloc[held_out], data.y.iloc[held_out])
print(f"accuracy on held-out USA cars: {accuracy:.2f}")

# %%
# 1. Expert weights
# -----------------
# :meth:`~moe_tabular.MoECBOWClassifier.expert_weights` masks the target and
# returns, per row, the gates of its position over the columns (averaged over
# the 5 heads of the one layer). The target column is among them: the masked
# position also attends to its own MASK token, the model's prior.
from moe_tabular import plot_expert_weights

weights = clf.expert_weights(X.iloc[held_out])
plot_expert_weights(weights, max_rows=20)
plt.show()

# %%
# Heads are separate mixtures; ``aggregate=None`` keeps them apart. Heads
# often specialise on one or two columns.
per_head = clf.expert_weights(X.iloc[held_out], aggregate=None)
per_head.groupby(level="head").mean().round(2)

# %%
# 2. Imputation
# -------------
# Hide a fifth of the ``cylinders`` and ``horsepower`` cells of the held-out
# cars and let the model fill them in from the rest of each row (the target
# masked). A binned numeric column gets the midpoint of the predicted bin; here
# both columns hold a few codes, so the model returns one of them.
# :class:`~moe_tabular.MoECBOWImputer` does the same as a transformer fitted on
# ``X`` alone, for pipelines.
rng = np.random.default_rng(0)
rows = X.iloc[held_out]
holed = rows.copy()
hidden = rng.random(len(rows)) < 0.2
holed.loc[hidden, ["cylinders", "horsepower"]] = np.nan
filled = clf.impute(holed)
for column in ["cylinders", "horsepower"]:
    truth, guess = rows.loc[hidden, column], filled.loc[hidden, column]
    mode = X.iloc[train][column].mode()[0]
    print(
        f"{column}: model {np.mean(truth == guess):.2f}, "
        f"most frequent {np.mean(truth == mode):.2f} ({hidden.sum()} cells)"
    )

# %%
# 3. Shift score
# --------------
# :meth:`~moe_tabular.MoECBOWClassifier.score_samples` sums, over the feature
# columns, the log-probability of each cell predicted from the others: the
# training objective read as a typicality score, higher for typical rows. The
# European and Japanese cars have a long tail of low scores, but most of them
# look like small American cars, so the separation is modest (AUROC about
# 0.6). The score sees how the cells of a row fit together; a value beyond the
# training range only lands in an end bin. ``benchmarks/lens/shift_score.py``
# compares it with :class:`~sklearn.ensemble.IsolationForest`: on this shift
# (smaller, lighter cars) the forest on raw values does better, while on the
# paper's correlation shift, where the columns stop going together, the
# pseudo-log-likelihood does (AUROC about 0.95 against 0.84).
from sklearn.metrics import roc_auc_score

score_id = clf.score_samples(X.iloc[held_out])
score_ood = clf.score_samples(X[~usa])
auroc = roc_auc_score(
    np.r_[np.zeros(len(score_id)), np.ones(len(score_ood))], -np.r_[score_id, score_ood]
)
fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
bins = np.linspace(min(score_id.min(), score_ood.min()), 0, 25)
ax.hist(score_id, bins=bins, alpha=0.6, density=True, label="USA (held out)")
ax.hist(score_ood, bins=bins, alpha=0.6, density=True, label="Europe and Japan")
ax.set_xlabel("score_samples (pseudo-log-likelihood)")
ax.set_title(f"AUROC of OOD vs ID: {auroc:.2f}")
print(f"AUROC of Europe and Japan against held-out USA cars: {auroc:.2f}")
ax.legend()
plt.show()

# %%
# 4. Embeddings
# -------------
# :meth:`~moe_tabular.MoECBOWClassifier.token_embeddings` labels every token
# with its column and category (reserved tokens: MASK, MISSING, UNKNOWN); with
# the default ``shared_vocabulary="auto"`` the ordered columns share bin tokens,
# and the ``token`` column shows which rows are one vector. Below, the cosine
# similarity of the column (position) embeddings.
tokens = clf.token_embeddings()
print(tokens.loc["cylinders", ["token", "e0", "e1"]].round(3))

columns = clf.column_embeddings()
unit = columns.to_numpy() / np.linalg.norm(columns.to_numpy(), axis=1, keepdims=True)
fig, ax = plt.subplots(figsize=(5, 4), layout="constrained")
image = ax.imshow(unit @ unit.T, cmap="coolwarm", vmin=-1, vmax=1)
ax.set_xticks(range(len(columns)), columns.index, rotation=45)
ax.set_yticks(range(len(columns)), columns.index)
ax.set_title("cosine similarity of column embeddings")
fig.colorbar(image, ax=ax)
plt.show()
