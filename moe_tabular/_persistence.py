"""Pickle-free files of a fitted model: folder, checksum, format version, JSON.

A saved model is a folder of two files:

``model.safetensors``
    The torch module's ``state_dict`` in the safetensors format (tensors only;
    reading it runs no code).
``model.json``
    Everything else, as plain JSON: the format and its version, the release
    that wrote it, the estimator's class name, the estimator's state (its
    hyperparameters, fitted attributes, the tokenizer's and the target's states,
    the module's token layout and the training history; see
    :class:`~moe_tabular._state.ModelStateMixin`) and the SHA-256 of the weights.

This module owns the files only: it writes what the estimator's ``_state()``
returns, through the JSON codec below, and hands what it reads back to the
class's ``_from_state()``, which rebuilds and checks the parts. It never
unpickles anything: numpy arrays are rebuilt from lists with plain dtypes.
"""

import hashlib
import json
import math
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ._version import __version__

FORMAT = "moe_tabular"
FORMAT_VERSION = 2  # 2: the module owns its layout (n_categories, shared)
CONFIG_FILE = "model.json"
WEIGHTS_FILE = "model.safetensors"
_ARRAY_KINDS = set("biufUO")  # bool, int, uint, float, str, object (scalars only)
# the keys of model.json that are the file's, not the model's state
_FILE_KEYS = {
    "format",
    "format_version",
    "moe_tabular_version",
    "estimator",
    "weights_sha256",
}


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


# -- files ---------------------------------------------------------------------------
def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    state = estimator._state()
    weights = state.pop("weights")
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "moe_tabular_version": __version__,
        "estimator": type(estimator).__name__,
        **to_json(state, "the model"),
    }
    path.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in weights.items()}
    save_file(tensors, path / WEIGHTS_FILE, metadata={"format": FORMAT})
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
    weights_file = path / WEIGHTS_FILE
    try:
        if _sha256(weights_file) != config.get("weights_sha256"):
            raise ValueError(
                f"{str(weights_file)!r} does not match {CONFIG_FILE} (its SHA-256 "
                "differs): the file is corrupt or from another model."
            )
        weights = load_file(weights_file, device="cpu")
    except FileNotFoundError:
        raise ValueError(f"{str(weights_file)!r} does not exist.") from None
    except OSError as exc:
        raise ValueError(f"Cannot read {str(weights_file)!r}: {exc}.") from None
    except SafetensorError as exc:
        raise ValueError(
            f"{str(weights_file)!r} is not a safetensors file ({exc})."
        ) from None
    try:
        model = {k: from_json(v) for k, v in config.items() if k not in _FILE_KEYS}
        return cls._from_state({**model, "weights": weights}, device=device)
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
