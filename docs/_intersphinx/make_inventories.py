"""Write the intersphinx inventories this documentation links against, offline.

The build must work without network access, so ``docs/conf.py`` reads every
inventory from this folder and never downloads one. Where they come from:

``python.inv``, ``sklearn.inv``, ``pandas.inv``
    The ``objects.inv`` files of the projects' own documentation builds, as
    Debian 12 ships them (packages ``python3.11-doc``, ``python-sklearn-doc``
    1.2.1, ``python-pandas-doc`` 1.5.3), copied unchanged. They list every
    documented object; names added after those releases do not resolve and
    render as plain code.
``numpy.inv``, ``torch.inv``, ``skorch.inv``
    No package on the registries this project reaches ships these projects'
    inventories, so this script writes small ones: only the names in
    ``ENTRIES`` below (the ones the pages cite), each with the address of its
    page in that project's documentation. Add a name here when a page cites a
    new one, then run::

        python docs/_intersphinx/make_inventories.py

On a machine with network access, ``--download`` replaces all six with the
projects' current, complete inventories instead.
"""

import argparse
import urllib.request
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

# where each project's documentation lives (also used by docs/conf.py)
BASE_URLS = {
    "python": "https://docs.python.org/3/",
    "numpy": "https://numpy.org/doc/stable/",
    "pandas": "https://pandas.pydata.org/docs/",
    "sklearn": "https://scikit-learn.org/stable/",
    "torch": "https://docs.pytorch.org/docs/stable/",
    "skorch": "https://skorch.readthedocs.io/en/stable/",
}

# (name, domain:role, page relative to the base URL, with its anchor)
ENTRIES = {
    "numpy": [
        (
            "numpy.ndarray",
            "py:class",
            "reference/generated/numpy.ndarray.html#numpy.ndarray",
        ),
        ("numpy.nan", "py:data", "reference/constants.html#numpy.nan"),
        (
            "numpy.random.Generator",
            "py:class",
            "reference/random/generator.html#numpy.random.Generator",
        ),
    ],
    "torch": [
        ("torch.device", "py:class", "tensor_attributes.html#torch.device"),
        ("torch.Tensor", "py:class", "tensors.html#torch.Tensor"),
        (
            "torch.nn.Module",
            "py:class",
            "generated/torch.nn.Module.html#torch.nn.Module",
        ),
        ("torch.random.fork_rng", "py:function", "random.html#torch.random.fork_rng"),
        (
            "torch.set_num_threads",
            "py:function",
            "generated/torch.set_num_threads.html#torch.set_num_threads",
        ),
        (
            "torch.use_deterministic_algorithms",
            "py:function",
            "generated/torch.use_deterministic_algorithms.html#torch.use_deterministic_algorithms",
        ),
        (
            "torch.optim.Adam",
            "py:class",
            "generated/torch.optim.Adam.html#torch.optim.Adam",
        ),
        (
            "torch.optim.lr_scheduler.OneCycleLR",
            "py:class",
            "generated/torch.optim.lr_scheduler.OneCycleLR.html#torch.optim.lr_scheduler.OneCycleLR",
        ),
    ],
    "skorch": [
        ("skorch.net.NeuralNet", "py:class", "net.html#skorch.net.NeuralNet"),
        ("skorch.NeuralNet", "py:class", "net.html#skorch.net.NeuralNet"),
        (
            "skorch.callbacks.EarlyStopping",
            "py:class",
            "callbacks.html#skorch.callbacks.EarlyStopping",
        ),
        (
            "skorch.callbacks.ProgressBar",
            "py:class",
            "callbacks.html#skorch.callbacks.ProgressBar",
        ),
        (
            "skorch.callbacks.LRScheduler",
            "py:class",
            "callbacks.html#skorch.callbacks.LRScheduler",
        ),
        (
            "skorch.dataset.ValidSplit",
            "py:class",
            "dataset.html#skorch.dataset.ValidSplit",
        ),
        ("skorch.history.History", "py:class", "history.html#skorch.history.History"),
    ],
}
VERSIONS = {"numpy": "stable", "torch": "stable", "skorch": "stable"}


def write_inventory(project, entries, path):
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {VERSIONS[project]}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    body = "".join(f"{name} {role} 1 {uri} -\n" for name, role, uri in sorted(entries))
    path.write_bytes(header.encode() + zlib.compress(body.encode(), 9))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--download",
        action="store_true",
        help="fetch every project's complete objects.inv (needs network access)",
    )
    args = parser.parse_args()
    if args.download:
        for name, url in BASE_URLS.items():
            with urllib.request.urlopen(url + "objects.inv", timeout=60) as response:
                (HERE / f"{name}.inv").write_bytes(response.read())
            print(f"downloaded {name}.inv from {url}")
        return
    for project, entries in ENTRIES.items():
        write_inventory(project, entries, HERE / f"{project}.inv")
        print(f"wrote {project}.inv ({len(entries)} names)")


if __name__ == "__main__":
    main()
