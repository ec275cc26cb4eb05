"""The fitted estimator's state: what ``save`` writes and ``load`` reads back.

:class:`ModelStateMixin` gives the estimators ``save``/``load`` and the pair
behind them, ``_state()``/``_from_state()``: the estimator's own state (its
hyperparameters, fitted attributes, the module's token layout and weights, the
training history) around its parts' own (:meth:`ColumnTokenizer.state
<moe_tabular.ColumnTokenizer.state>`, the target's ``state()``).
:mod:`~moe_tabular._persistence` turns it into files and back, and knows
nothing of what is inside.
"""

import numpy as np
import pandas as pd
import torch
from sklearn.utils.validation import check_is_fitted

from ._inference import resolve_device
from ._persistence import load_model, save_model
from ._targets import target_from_state
from ._tokenizer import ColumnTokenizer


class ModelStateMixin:
    """``save``/``load`` and the estimator's state; for :class:`_BaseMoECBOW`."""

    # fitted attributes saved beside the tokenizer, the target and the module
    _saved_attributes = (
        "n_features_in_",
        "feature_names_in_",
        "n_iter_",
        "batch_size_",
        "learning_rate_",
        "target_weight_",
    )

    def save(self, path):
        """Save the fitted model to a folder, without pickle.

        The folder gets ``model.safetensors`` (the torch weights) and
        ``model.json`` (hyperparameters, tokenizer vocabularies and bin edges,
        classes or target bins, feature names, history, format version). Loading
        it with :meth:`load` runs no code from the files, unlike :mod:`pickle` and
        :mod:`joblib`, which also work but must only be used on trusted files.

        Parameters
        ----------
        path : str or path-like
            Folder to write to; created if needed, its two files replaced.

        Examples
        --------
        >>> import tempfile
        >>> import numpy as np
        >>> from moe_tabular import MoECBOWClassifier
        >>> X, y = np.array([[0.0], [1.0]] * 10), [0, 1] * 10
        >>> model = MoECBOWClassifier(max_epochs=2, random_state=0).fit(X, y)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     model.save(folder)
        ...     loaded = MoECBOWClassifier.load(folder)
        >>> bool((loaded.predict_proba(X) == model.predict_proba(X)).all())
        True
        """
        check_is_fitted(self)
        save_model(self, path)

    @classmethod
    def load(cls, path, *, device=None):
        """Load a model written by :meth:`save`; never unpickles.

        Parameters
        ----------
        path : str or path-like
            The folder given to :meth:`save`.
        device : str, torch.device or None, default=None
            Where to put the model (what torch accepts, or "auto"); the saved
            ``device`` parameter if None.

        Returns
        -------
        model : estimator
            The fitted model; it predicts exactly as the saved one. A saved
            ``random_state`` that was a ``RandomState`` instance comes back as None.

        Raises
        ------
        ValueError
            If a file is missing or corrupt, holds another estimator class, was
            written by a newer format version, or its ``model.json`` does not
            match its weights.
        """
        return load_model(path, cls, device=device)

    def _state(self):
        """The fitted estimator as plain values, and its module's tensors.

        Returns
        -------
        state : dict
            ``params``, ``attributes``, ``tokenizer``, ``target``, ``layout``
            and ``history`` (str, numbers, lists, dicts and numpy arrays), and
            ``weights``: the module's ``state_dict``.
        """
        params = self.get_params(deep=False)
        if not isinstance(params.get("random_state"), (int, np.integer, type(None))):
            params["random_state"] = None  # a RandomState instance has no JSON form
        if not isinstance(params.get("device"), str):
            params["device"] = str(params["device"])  # a torch.device
        module = self.module_
        return {
            "params": params,
            "attributes": {
                key: getattr(self, key)
                for key in self._saved_attributes
                if hasattr(self, key)
            },
            "tokenizer": self.tokenizer_.state(),
            "target": self._target.state(),
            "layout": {
                "n_categories": module.n_categories.tolist(),
                "shared": module.shared.tolist(),
            },
            "history": self.history_.to_dict(orient="records"),
            "weights": module.state_dict(),
        }

    @classmethod
    def _from_state(cls, state, *, device=None):
        """The fitted estimator of a :meth:`_state`, its parts checked together.

        Parameters
        ----------
        state : dict
            What :meth:`_state` returned (the plain values through JSON).
        device : str, torch.device or None, default=None
            Overrides the saved ``device`` parameter.
        """
        params = dict(state["params"])
        # files from before weight_decay existed were trained with plain Adam
        params.setdefault("weight_decay", 0.0)
        # and with each category's own embedding
        params.setdefault("ordinal_embedding", False)
        if device is not None:
            params["device"] = device
        unknown = set(params) - set(cls().get_params())
        if unknown:
            raise ValueError(f"parameters {sorted(unknown)} unknown to this release")
        estimator = cls(**params)
        estimator._validate_params()
        attributes = state["attributes"]
        if (
            not set(attributes) <= set(cls._saved_attributes)
            or "n_features_in_" not in attributes
        ):
            raise ValueError(f"bad attributes {sorted(attributes)}")
        for key, value in attributes.items():
            setattr(estimator, key, value)
        tokenizer = ColumnTokenizer.from_state(state["tokenizer"])
        target = target_from_state(state["target"])
        if type(target) is not type(estimator._make_target()):
            raise ValueError(f"a {type(target).__name__} does not fit {cls.__name__}")
        layout, weights = state["layout"], state["weights"]
        estimator._check_layout(tokenizer, target, layout, weights)
        # the initial weights are drawn from a throwaway generator, then overwritten
        module = estimator._new_module(
            layout["n_categories"],
            layout["shared"],
            estimator._layout(tokenizer, target)[2],
            torch.Generator(),
        )
        module.load_state_dict(weights, strict=True)
        estimator.tokenizer_ = tokenizer
        estimator._target = target
        estimator.module_ = module.to(resolve_device(estimator.device)).eval()
        estimator.history_ = pd.DataFrame(state["history"])
        return estimator

    def _check_layout(self, tokenizer, target, layout, weights):
        """The saved tokenizer, target and layout against each other and the weights."""
        n_categories = [int(n) for n in layout["n_categories"]]
        shared = [bool(s) for s in layout["shared"]]
        n_features = int(self.n_features_in_)
        if (
            tokenizer.n_features_in_ != n_features
            or len(tokenizer.encoders_) != n_features
        ):
            raise ValueError("the tokenizer does not have one encoder per column")
        names = getattr(self, "feature_names_in_", None)
        if names is not None and len(names) != n_features:
            raise ValueError("feature_names_in_ does not name every column")
        if len(n_categories) != n_features + 1 or len(shared) != n_features + 1:
            raise ValueError(
                "the layout does not have one entry per column and the target"
            )
        if n_categories[:-1] != tokenizer.n_categories_.tolist():
            raise ValueError(
                "the tokenizer's categories per column "
                f"{tokenizer.n_categories_.tolist()} do not match the network's "
                f"{n_categories[:-1]}"
            )
        if n_categories[-1] != target.n_categories:
            raise ValueError(
                f"the target has {target.n_categories} categories (classes or bins), "
                f"the network {n_categories[-1]}"
            )
        ordered = [bool(o) for o in tokenizer.ordered_]
        if self.shared_vocabulary == "auto" and shared[:-1] != ordered:
            raise ValueError(
                f"the tokenizer's ordered columns {ordered} are not the network's "
                f"shared ones {shared[:-1]}"
            )
        for key, value in (("n_categories", n_categories), ("shared", shared)):
            saved = weights.get(key)
            if saved is None or saved.tolist() != value:
                raise ValueError(f"the weights' {key} do not match model.json's layout")
