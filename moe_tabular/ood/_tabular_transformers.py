"""Optional baselines: pytorch-tabular's FT-Transformer and TabTransformer.

Used only when ``pytorch_tabular`` is importable; the harness lists them as
``"ft-transformer"`` and ``"tab-transformer"``.
"""

import contextlib
import importlib.util
import logging
import os
import random
import tempfile
import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.validation import check_is_fitted

from ._peers import category_strings

__all__ = ["TabularTransformerClassifier", "pytorch_tabular_available"]

_TARGET = "target__"
_LOGGERS = ("pytorch_lightning", "lightning", "lightning.pytorch", "pytorch_tabular")


def pytorch_tabular_available():
    """Whether ``pytorch_tabular`` can be imported.

    Returns
    -------
    available : bool
        True when the package is installed.

    Examples
    --------
    >>> from moe_tabular.ood import pytorch_tabular_available
    >>> isinstance(pytorch_tabular_available(), bool)
    True
    """
    return importlib.util.find_spec("pytorch_tabular") is not None


@contextlib.contextmanager
def _in_temporary_directory():
    """Work in a fresh temporary directory; come back and delete it afterwards."""
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="moe_tabular_pt_") as tmp:
        os.chdir(tmp)
        try:
            yield tmp
        finally:
            os.chdir(cwd)


@contextlib.contextmanager
def _quiet_and_kept_rng():
    """Silence Lightning's logs and warnings; give back the global RNG states.

    pytorch-tabular seeds every global random number generator.
    """
    import torch

    loggers = [logging.getLogger(name) for name in _LOGGERS]
    levels = [logger.level for logger in loggers]
    states = random.getstate(), np.random.get_state()  # noqa: NPY002 - restored
    try:
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        with torch.random.fork_rng(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])  # noqa: NPY002 - the caller's state
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


class TabularTransformerClassifier(ClassifierMixin, BaseEstimator):
    """scikit-learn face of pytorch-tabular's FT-Transformer or TabTransformer.

    pytorch-tabular's default settings but ``max_epochs`` and ``batch_size``
    (the paper's Auto MPG protocol: 200 epochs, batch 128). Its own
    early stopping on a validation part of the training rows stays on, as in
    its defaults; checkpoints go to a temporary folder. Categorical columns are
    read as strings (missing values as one more category); the other columns
    are numeric, their missing values imputed with the training median.

    Parameters
    ----------
    model : {"FTTransformer", "TabTransformer"}, default="FTTransformer"
        Which pytorch-tabular model to train.

    categorical : list of str or None, default=None
        Categorical columns; None means every non-numeric column.

    max_epochs : int, default=200
        Training epochs (pytorch-tabular's early stopping may stop sooner).

    batch_size : int, default=128
        Rows per batch.

    random_state : int or None, default=0
        Seed of pytorch-tabular's trainer and validation split; pytorch-tabular
        reads 0 as "no seed", so 0 and None use its default seed, 42. The
        caller's global random states are restored after ``fit``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    model_ : pytorch_tabular.TabularModel
        The fitted model.

    Examples
    --------
    Fitting needs pytorch-tabular (``pytorch_tabular_available()`` tells);
    building and configuring the estimator does not:

    >>> from moe_tabular.ood import TabularTransformerClassifier
    >>> model = TabularTransformerClassifier(model="TabTransformer", max_epochs=5)
    >>> model.get_params()["model"]
    'TabTransformer'
    """

    def __init__(
        self,
        *,
        model="FTTransformer",
        categorical=None,
        max_epochs=200,
        batch_size=128,
        random_state=0,
    ):
        self.model = model
        self.categorical = categorical
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.random_state = random_state

    def _frame(self, X):
        frame = pd.DataFrame(index=range(len(X)))
        for column in X.columns:
            values = X[column].reset_index(drop=True)
            if column in self._categorical:
                frame[column] = category_strings(values)
            else:
                values = values.astype(float)
                frame[column] = values.fillna(self._medians[column])
        return frame

    def fit(self, X, y):
        """Fit the pytorch-tabular model.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Features.

        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        from pytorch_tabular import TabularModel
        from pytorch_tabular.config import DataConfig, OptimizerConfig, TrainerConfig
        from pytorch_tabular.models import FTTransformerConfig, TabTransformerConfig

        configs = {
            "FTTransformer": FTTransformerConfig,
            "TabTransformer": TabTransformerConfig,
        }
        if self.model not in configs:
            raise ValueError(
                f"model must be one of {sorted(configs)}; got {self.model!r}."
            )
        categorical = self.categorical
        if categorical is None:
            numeric = X.dtypes.map(pd.api.types.is_numeric_dtype).to_numpy(dtype=bool)
            categorical = X.columns[~numeric]
        self._categorical = set(categorical)
        continuous = [c for c in X.columns if c not in self._categorical]
        self._medians = {c: float(X[c].astype(float).median()) for c in continuous}
        encoder = LabelEncoder().fit(y)
        frame = self._frame(X)
        frame[_TARGET] = encoder.transform(y)
        data = DataConfig(
            target=[_TARGET],
            continuous_cols=continuous,
            categorical_cols=[c for c in X.columns if c in self._categorical],
        )
        seed = self.random_state or 42  # pytorch-tabular reads 0 as "no seed"
        # pytorch-tabular writes .pt_tmp/ in the working directory: use a temporary
        # one (which also holds checkpoints and Lightning's logs)
        with _in_temporary_directory() as tmp:
            trainer = TrainerConfig(
                max_epochs=self.max_epochs,
                batch_size=self.batch_size,
                accelerator="cpu",
                devices=1,
                progress_bar="none",
                checkpoints_path=tmp,
                seed=seed,
                trainer_kwargs={"enable_model_summary": False, "default_root_dir": tmp},
            )
            model = TabularModel(
                data_config=data,
                model_config=configs[self.model](task="classification"),
                optimizer_config=OptimizerConfig(),
                trainer_config=trainer,
                verbose=False,
                suppress_lightning_logger=True,
            )
            with _quiet_and_kept_rng():
                model.fit(train=frame, seed=seed)
        self.model_ = model
        self.classes_ = encoder.classes_
        return self

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Features.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities.
        """
        check_is_fitted(self)
        with _quiet_and_kept_rng():
            out = self.model_.predict(self._frame(X), progress_bar="none")
        columns = [f"{code}_probability" for code in range(len(self.classes_))]
        if not set(columns) <= set(out.columns):  # older/newer naming
            columns = [
                f"{_TARGET}_{code}_probability" for code in range(len(self.classes_))
            ]
        proba = out[columns].to_numpy(dtype=np.float64)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Most likely class of each row.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Features.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels taken from ``classes_``.
        """
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
