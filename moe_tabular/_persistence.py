"""Pickle-free saving and loading of fitted estimators.

A saved model is a folder of two files:

``model.safetensors``
    The torch module's ``state_dict`` in the safetensors format (tensors only;
    reading it runs no code).
``model.json``
    Everything else, as plain JSON: the format version, the estimator's class
    name and hyperparameters, the tokenizer's fitted state (categories, bin
    edges, categorical mask, token layout), the target's state (``classes_`` or
    ``target_bin_means_``), ``n_features_in_``/``feature_names_in_``, the token
    layout of the module, the training history and the SHA-256 of the weights.

Loading rebuilds the sklearn encoders and the target from their saved state,
checks them against the shapes and layout stored with the weights, builds the
torch module only (no training machinery) and loads the weights into it. It never
unpickles anything: class names are looked up in fixed tables, arrays are rebuilt
from lists with plain numpy dtypes. Loading takes time linear in the vocabulary.
"""

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from sklearn.preprocessing import KBinsDiscretizer, OrdinalEncoder

from ._inference import resolve_device
from ._targets import BinnedTarget, ClassTarget, NoTarget
from ._tokenizer import ColumnTokenizer
from ._version import __version__

FORMAT = "moe_tabular"
FORMAT_VERSION = 2  # 2: the module owns its layout (n_categories, shared)
CONFIG_FILE = "model.json"
WEIGHTS_FILE = "model.safetensors"
_ARRAY_KINDS = set("biufUO")  # bool, int, uint, float, str, object (scalars only)


# -- JSON encoding of fitted state ---------------------------------------------------
def to_json(value, name):
    """Plain-JSON form of ``value``: scalars, lists, str-keyed dicts and arrays.

    Non-finite floats and numpy arrays become tagged dicts, so the file stays
    strict JSON and arrays keep their dtype.

    Parameters
    ----------
    value : object
        The value to encode.
    name : str
        What the value is, for the error message.

    Returns
    -------
    encoded : object
        Made only of dict, list, str, int, float, bool and None.

    Examples
    --------
    >>> import numpy as np
    >>> to_json(np.array([1.5, np.nan]), "edges")
    {'__ndarray__': [1.5, {'__float__': 'nan'}], 'dtype': '<f8', 'shape': [2]}
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in _ARRAY_KINDS:
            raise TypeError(f"Cannot save {name}: arrays of dtype {value.dtype}.")
        return {
            "__ndarray__": [to_json(v, name) for v in value.ravel().tolist()],
            "dtype": "object" if value.dtype.kind == "O" else value.dtype.str,
            "shape": list(value.shape),
        }
    if isinstance(value, (list, tuple)):
        return [to_json(v, name) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: to_json(v, f"{name}[{k!r}]") for k, v in value.items()}
    raise TypeError(
        f"Cannot save {name}: values of type {type(value).__name__} ({value!r}) "
        "have no JSON form; use pickle (trusted files only) for this model."
    )


def from_json(value):
    """Inverse of :func:`to_json`.

    Examples
    --------
    >>> from_json({"__ndarray__": [1, 2], "dtype": "<i8", "shape": [2]})
    array([1, 2])
    """
    if isinstance(value, list):
        return [from_json(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__float__" in value:
        text = value["__float__"]
        if text not in {"nan", "inf", "-inf"}:
            raise ValueError(f"Bad non-finite float {text!r}.")
        return float(text)
    if "__ndarray__" in value:
        items = [from_json(v) for v in value["__ndarray__"]]
        dtype, shape = value["dtype"], tuple(value["shape"])
        if dtype == "object":
            array = np.empty(len(items), dtype=object)
            array[:] = items
            return array.reshape(shape)
        dtype = np.dtype(dtype)
        if dtype.kind not in _ARRAY_KINDS - {"O"}:
            raise ValueError(f"Bad array dtype {dtype}.")
        return np.array(items, dtype=dtype).reshape(shape)
    return {k: from_json(v) for k, v in value.items()}


# -- sklearn encoders ----------------------------------------------------------------
def _encoder_state(encoder, j):
    name = f"tokenizer_.encoders_[{j}]"
    if encoder is None:
        return None
    params = encoder.get_params()
    if isinstance(encoder, OrdinalEncoder):
        if params.pop("dtype") is not np.float64 or params.pop("categories") != "auto":
            raise TypeError(f"Cannot save {name}: unexpected parameters {params}.")
        return {
            "type": "OrdinalEncoder",
            "params": to_json(params, name),
            "categories": to_json(encoder.categories_[0], name),
            "infrequent": to_json(_infrequent(encoder), name),
        }
    if isinstance(encoder, KBinsDiscretizer):
        return {
            "type": "KBinsDiscretizer",
            "params": to_json(params, name),
            "bin_edges": to_json(encoder.bin_edges_[0], name),
            "n_bins": to_json(encoder.n_bins_, name),
        }
    raise TypeError(f"Cannot save {name} of type {type(encoder).__name__}.")


def _infrequent(encoder):
    """The infrequent categories of a fitted OrdinalEncoder, or None."""
    try:
        return encoder.infrequent_categories_[0]
    except AttributeError:  # min_frequency and max_categories both None
        return None


def _same_values(a, b):
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    return a.shape == b.shape and all(
        x == y or (pd.isna(x) and pd.isna(y)) for x, y in zip(a, b, strict=True)
    )


def _ordinal_encoder(state):
    """Refit an OrdinalEncoder to the saved categories, infrequent ones included.

    Every category is seen twice and every infrequent one once, under
    ``min_frequency=2``: sklearn's own fit then rebuilds the exact mapping, in
    time linear in the number of categories (set lookups, no pairwise scan).
    """
    categories = from_json(state["categories"])
    infrequent = from_json(state["infrequent"])
    infrequent = [] if infrequent is None else list(infrequent)
    rare = {v for v in infrequent if not pd.isna(v)}
    rare_missing = any(pd.isna(v) for v in infrequent)
    counts = [
        1 if (rare_missing if pd.isna(c) else c in rare) else 2 for c in categories
    ]
    values = np.repeat(categories, counts).reshape(-1, 1)
    params = from_json(state["params"])
    encoder = OrdinalEncoder(
        **{
            **params,
            "min_frequency": 2 if infrequent else None,
            "max_categories": None,
        },
        categories=[categories],
    ).fit(values)
    encoder.set_params(**params, categories="auto")  # as fitted; transform ignores
    rebuilt = _infrequent(encoder)
    if not _same_values(encoder.categories_[0], categories) or not _same_values(
        [] if rebuilt is None else rebuilt, infrequent
    ):
        raise ValueError("the saved categories do not rebuild an encoder")
    return encoder


def _bins_encoder(state):
    encoder = KBinsDiscretizer(**from_json(state["params"]))
    edges = np.asarray(from_json(state["bin_edges"]), dtype=np.float64)
    if edges.ndim != 1 or not (np.diff(edges) >= 0).all():
        raise ValueError("the saved bin edges are not sorted")
    encoder.bin_edges_ = np.empty(1, dtype=object)
    encoder.bin_edges_[0] = edges
    encoder.n_bins_ = np.asarray(from_json(state["n_bins"]), dtype=np.int64)
    encoder.n_features_in_ = 1
    return encoder


def _is_fitted_name(key):
    """A public fitted attribute (``classes_``), never ``__dict__`` and the like."""
    return key.isidentifier() and key.endswith("_") and not key.startswith("_")


def _tokenizer_state(tokenizer):
    attributes = {
        key: to_json(value, f"tokenizer_.{key}")
        for key, value in vars(tokenizer).items()
        if key.endswith("_") and not key.startswith("_") and key != "encoders_"
    }
    return {
        "params": to_json(tokenizer.get_params(), "tokenizer_ parameters"),
        "attributes": attributes,
        "encoders": [_encoder_state(e, j) for j, e in enumerate(tokenizer.encoders_)],
    }


def _rebuild_tokenizer(state):
    tokenizer = ColumnTokenizer(**from_json(state["params"]))
    for key, value in state["attributes"].items():
        if not _is_fitted_name(key):
            raise ValueError(f"bad tokenizer attribute {key!r}")
        setattr(tokenizer, key, from_json(value))
    builders = {"OrdinalEncoder": _ordinal_encoder, "KBinsDiscretizer": _bins_encoder}
    tokenizer.encoders_ = [
        None if e is None else builders[e["type"]](e) for e in state["encoders"]
    ]
    if len(tokenizer.encoders_) != tokenizer.n_features_in_:
        raise ValueError("the tokenizer has one encoder per column")
    if not hasattr(tokenizer, "ordered_"):  # saved before ordered_: numeric ones
        tokenizer.ordered_ = ~np.asarray(tokenizer.categorical_, dtype=bool)
    return tokenizer


# -- files ---------------------------------------------------------------------------
def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _json_params(estimator):
    params = estimator.get_params(deep=False)
    if not isinstance(params.get("random_state"), (int, np.integer, type(None))):
        params["random_state"] = None  # a RandomState instance has no JSON form
    if not isinstance(params.get("device"), str):
        params["device"] = str(params["device"])  # a torch.device
    return to_json(params, "the hyperparameters")


def _target_state(target):
    state = dict(target.state())
    if "binner" in state:
        state["binner"] = _tokenizer_state(state["binner"])
    return to_json(state, "the target")


_TARGETS = {"classes": ClassTarget, "bins": BinnedTarget, "none": NoTarget}


def _rebuild_target(state):
    state = from_json(state)
    if not isinstance(state, dict) or state.get("kind") not in _TARGETS:
        raise ValueError(f"bad target state {state!r:.80}")
    if "binner" in state:
        state["binner"] = _rebuild_tokenizer(state["binner"])
    return _TARGETS[state["kind"]].from_state(state)


# attributes of the estimator saved beside the tokenizer, target and module
_ATTRIBUTES = (
    "n_features_in_",
    "feature_names_in_",
    "n_iter_",
    "batch_size_",
    "learning_rate_",
    "target_weight_",
    "bin_means_",
)


def save_model(estimator, path):
    """Write a fitted estimator to the folder ``path``.

    Parameters
    ----------
    estimator : MoECBOWClassifier, MoECBOWRegressor or MoECBOWImputer
        A fitted estimator.
    path : str or path-like
        Folder to write ``model.json`` and ``model.safetensors`` into; created
        if needed, its two files replaced.

    Returns
    -------
    path : pathlib.Path
        The folder.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"path={str(path)!r} is a file; save needs a folder.")
    attributes = {
        key: to_json(getattr(estimator, key), key)
        for key in _ATTRIBUTES
        if hasattr(estimator, key)
    }
    module = estimator.module_
    layout = {
        "n_categories": module.n_categories.tolist(),
        "shared": module.shared.tolist(),
    }
    history = [
        {k: to_json(v, "history_") for k, v in row.items()}
        for row in estimator.history_.to_dict(orient="records")
    ]
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "moe_tabular_version": __version__,
        "estimator": type(estimator).__name__,
        "params": _json_params(estimator),
        "attributes": attributes,
        "tokenizer": _tokenizer_state(estimator.tokenizer_),
        "target": _target_state(estimator._target),
        "layout": layout,
        "history": history,
    }
    path.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    save_file(state, path / WEIGHTS_FILE, metadata={"format": FORMAT})
    config["weights_sha256"] = _sha256(path / WEIGHTS_FILE)
    text = json.dumps(config, indent=1, allow_nan=False)  # ASCII: lone surrogates too
    (path / CONFIG_FILE).write_text(text, encoding="utf-8")
    return path


def _read_config(path, cls):
    config_path = path / CONFIG_FILE
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(
            f"{str(config_path)!r} does not exist; pass the folder written by save()."
        ) from None
    except OSError as exc:
        raise ValueError(f"Cannot read {str(config_path)!r}: {exc}.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{str(config_path)!r} is not valid JSON ({exc}).") from None
    except RecursionError:
        raise ValueError(
            f"{str(config_path)!r} is nested too deeply to be a saved model."
        ) from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ValueError(f"{str(config_path)!r} is not a saved moe_tabular model.")
    version = config.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"{str(config_path)!r} has a bad format_version={version!r}.")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{str(config_path)!r} has format_version={version}, newer than this "
            f"release reads ({FORMAT_VERSION}); it was saved by moe_tabular "
            f"{config.get('moe_tabular_version')!r}: upgrade moe_tabular."
        )
    if version < FORMAT_VERSION:
        raise ValueError(
            f"{str(config_path)!r} has format_version={version}, written by "
            f"moe_tabular {config.get('moe_tabular_version')!r} before the module "
            "owned its token layout; this release reads version "
            f"{FORMAT_VERSION} only: refit the model and save it again."
        )
    if config.get("estimator") != cls.__name__:
        raise ValueError(
            f"{str(path)!r} holds a {config.get('estimator')!r}; load it with "
            f"that class instead of {cls.__name__}."
        )
    return config


def load_model(path, cls, *, device=None):
    """Read an estimator written by :func:`save_model`; never unpickles.

    Parameters
    ----------
    path : str or path-like
        The folder given to :func:`save_model`.
    cls : type
        The estimator class the folder must hold.
    device : str, torch.device or None, default=None
        Overrides the saved ``device`` parameter.

    Returns
    -------
    estimator : cls
        The fitted estimator.
    """
    path = Path(path)
    config = _read_config(path, cls)
    weights = path / WEIGHTS_FILE
    try:
        if _sha256(weights) != config.get("weights_sha256"):
            raise ValueError(
                f"{str(weights)!r} does not match {CONFIG_FILE} (its SHA-256 "
                "differs): the file is corrupt or from another model."
            )
        state = load_file(weights, device="cpu")
    except FileNotFoundError:
        raise ValueError(f"{str(weights)!r} does not exist.") from None
    except OSError as exc:
        raise ValueError(f"Cannot read {str(weights)!r}: {exc}.") from None
    except SafetensorError as exc:
        raise ValueError(
            f"{str(weights)!r} is not a safetensors file ({exc})."
        ) from None
    try:
        return _rebuild(config, state, cls, device)
    except (
        KeyError,
        TypeError,
        ValueError,
        AttributeError,
        RuntimeError,
        IndexError,
        RecursionError,
    ) as exc:
        raise ValueError(
            f"{str(path)!r} holds a corrupt or incompatible model: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def _check_layout(estimator, tokenizer, target, layout, state):
    """``model.json``'s tokenizer, target and layout against the weights."""
    n_categories = [int(n) for n in layout["n_categories"]]
    shared = [bool(s) for s in layout["shared"]]
    n_features = int(estimator.n_features_in_)
    if tokenizer.n_features_in_ != n_features or len(tokenizer.encoders_) != n_features:
        raise ValueError("the tokenizer does not have one encoder per column")
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and len(names) != n_features:
        raise ValueError("feature_names_in_ does not name every column")
    if len(n_categories) != n_features + 1 or len(shared) != n_features + 1:
        raise ValueError("the layout does not have one entry per column and the target")
    if n_categories[:-1] != tokenizer.n_categories_.tolist():
        raise ValueError(
            f"the tokenizer's categories per column {tokenizer.n_categories_.tolist()} "
            f"do not match the network's {n_categories[:-1]}"
        )
    if n_categories[-1] != target.n_categories:
        raise ValueError(
            f"the target has {target.n_categories} categories (classes or bins), "
            f"the network {n_categories[-1]}"
        )
    ordered = [bool(o) for o in tokenizer.ordered_]
    if estimator.shared_vocabulary == "auto" and shared[:-1] != ordered:
        raise ValueError(
            f"the tokenizer's ordered columns {ordered} are not the network's "
            f"shared ones {shared[:-1]}"
        )
    for key, value in (("n_categories", n_categories), ("shared", shared)):
        saved = state.get(key)
        if saved is None or saved.tolist() != value:
            raise ValueError(f"the weights' {key} do not match model.json's layout")


def _rebuild(config, state, cls, device):
    params = from_json(config["params"])
    # files from before weight_decay existed were trained with plain Adam
    params.setdefault("weight_decay", 0.0)
    if device is not None:
        params["device"] = device
    unknown = set(params) - set(cls().get_params())
    if unknown:
        raise ValueError(f"parameters {sorted(unknown)} unknown to this release")
    estimator = cls(**params)
    estimator._validate_params()
    attributes = config["attributes"]
    if not set(attributes) <= set(_ATTRIBUTES) or "n_features_in_" not in attributes:
        raise ValueError(f"bad attributes {sorted(attributes)}")
    for key, value in attributes.items():
        setattr(estimator, key, from_json(value))
    tokenizer = _rebuild_tokenizer(config["tokenizer"])
    target = _rebuild_target(config["target"])
    if type(target) is not type(estimator._make_target()):
        raise ValueError(f"a {type(target).__name__} does not fit {cls.__name__}")
    layout = config["layout"]
    _check_layout(estimator, tokenizer, target, layout, state)
    # the initial weights are drawn from a throwaway generator, then overwritten
    module = estimator._new_module(
        layout["n_categories"], layout["shared"], torch.Generator()
    )
    module.load_state_dict(state, strict=True)
    records = [from_json(row) for row in config["history"]]
    estimator.tokenizer_ = tokenizer
    estimator._target = target
    estimator.module_ = module.to(resolve_device(estimator.device)).eval()
    estimator.history_ = pd.DataFrame(records)
    return estimator
