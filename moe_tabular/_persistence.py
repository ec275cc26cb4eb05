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

Loading rebuilds the sklearn encoders from their saved state, builds the net
as ``fit`` does and loads the weights into it. It never unpickles anything:
class names are looked up in fixed tables, arrays are rebuilt from lists with
plain numpy dtypes.
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
from skorch.history import History

from ._tokenizer import ColumnTokenizer

FORMAT = "moe_tabular"
FORMAT_VERSION = 1
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
    ``min_frequency=2``: sklearn's own fit then rebuilds the exact mapping.
    """
    categories = from_json(state["categories"])
    infrequent = from_json(state["infrequent"])
    infrequent = [] if infrequent is None else list(infrequent)
    counts = [
        1 if any(_same_values([c], [i]) for i in infrequent) else 2 for c in categories
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
    return to_json(params, "the hyperparameters")


def save_model(estimator, path):
    """Write a fitted estimator to the folder ``path``.

    Parameters
    ----------
    estimator : MoECBOWClassifier or MoECBOWRegressor
        A fitted estimator.
    path : str or path-like
        Folder to write ``model.json`` and ``model.safetensors`` into; created
        if needed, its two files replaced.

    Returns
    -------
    path : pathlib.Path
        The folder.
    """
    from . import __version__

    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"path={str(path)!r} is a file; save needs a folder.")
    skip = {"tokenizer_", "net_", "history_"}
    attributes = {
        key: to_json(value, key)
        for key, value in vars(estimator).items()
        if key.endswith("_") and not key.startswith("_") and key not in skip
    }
    module = estimator.net_.module_
    layout = {
        "n_tokens": int(module.output.out_features),
        "category_offsets": module.category_offsets.tolist(),
        "n_categories": module.n_categories.tolist(),
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
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ValueError(f"{str(config_path)!r} is not a saved moe_tabular model.")
    version = config.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"{str(config_path)!r} has a bad format_version={version!r}.")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{str(config_path)!r} has format_version={version}, newer than this "
            f"release reads ({FORMAT_VERSION}); it was saved by moe_tabular "
            f"{config.get('moe_tabular_version')!r}: upgrade moe_tabular."
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
    device : {"cpu", "cuda", "auto"}, default=None
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
    except (KeyError, TypeError, ValueError, AttributeError, RuntimeError) as exc:
        raise ValueError(
            f"{str(path)!r} holds a corrupt or incompatible model: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def _rebuild(config, state, cls, device):
    params = from_json(config["params"])
    if device is not None:
        params["device"] = device
    unknown = set(params) - set(cls().get_params())
    if unknown:
        raise ValueError(f"parameters {sorted(unknown)} unknown to this release")
    estimator = cls(**params)
    estimator._validate_params()
    for key, value in config["attributes"].items():
        if not _is_fitted_name(key):
            raise ValueError(f"bad attribute {key!r}")
        setattr(estimator, key, from_json(value))
    estimator.tokenizer_ = _rebuild_tokenizer(config["tokenizer"])
    layout = from_json(config["layout"])
    net = estimator._make_net(
        layout,
        n_train_rows=1,
        early_stopping=False,
        stratify=False,
        device=estimator._resolve_device(),
        seed=0,
    )
    with torch.random.fork_rng():  # the random initial weights are overwritten
        net.initialize()
    net.module_.load_state_dict(state, strict=True)
    net.module_.eval()
    records = [from_json(row) for row in config["history"]]
    net.history = History(records)
    estimator.net_ = net
    estimator.history_ = pd.DataFrame(records)
    return estimator
