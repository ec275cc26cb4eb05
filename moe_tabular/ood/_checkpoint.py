"""A checkpoint of a suite: the rows of finished runs and the settings behind them."""

import io
import json
from pathlib import Path

import pandas as pd

__all__ = ["Checkpoint"]


class Checkpoint:
    """The rows of finished runs in a CSV, and the settings they were made with.

    Each run's row is appended to ``path`` as soon as the run ends; the
    settings every row depends on are kept in a JSON file beside it (same
    name, ``.json``), and a checkpoint is only resumed with the same settings.
    The object owns both files: :meth:`resume` reads them (or starts them),
    :meth:`runs` lists the finished runs, :meth:`append` adds a row,
    :meth:`remove` deletes both.

    Parameters
    ----------
    path : str or path-like
        The CSV file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from moe_tabular.ood import Checkpoint
    >>> folder = Path(tempfile.mkdtemp())
    >>> checkpoint = Checkpoint(folder / "runs.partial.csv")
    >>> checkpoint.resume({"params": None})  # a new one: no finished runs
    {}
    >>> checkpoint.append({"dataset": "auto-mpg", "model": "logreg", "seed": 1})
    >>> list(checkpoint.resume({"params": None}))
    [('auto-mpg', 'logreg', 1)]
    >>> checkpoint.remove()
    >>> sorted(p.name for p in folder.iterdir())
    []
    """

    _STRINGS = {"split": "str", "params": "str"}

    def __init__(self, path):
        self.path = Path(path)
        self.settings_path = self.path.with_suffix(".json")

    def __repr__(self):
        return f"Checkpoint({str(self.path)!r})"

    def exists(self):
        """Whether the CSV is there (an earlier run_suite wrote rows to it)."""
        return self.path.is_file()

    def resume(self, settings):
        """Rows already written, by ``(dataset, model, seed)``; {} if new.

        A new checkpoint records ``settings``. An existing one raises a
        ValueError naming the settings that differ, or when its settings file
        is missing. A last line cut short (the process killed while
        appending) is dropped: that run runs again.
        """
        described = json.loads(json.dumps(settings, sort_keys=True, default=repr))
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps(described, indent=1, sort_keys=True) + "\n"
            self.settings_path.write_text(text)
            return {}
        if not self.settings_path.is_file():
            raise ValueError(
                f"Checkpoint {self.path} has no settings file "
                f"{self.settings_path.name} beside it; it was not written by "
                "run_suite. Pass another checkpoint path."
            )
        stored = json.loads(self.settings_path.read_text())
        differ = sorted(
            key
            for key in {*stored, *described}
            if stored.get(key) != described.get(key)
        )
        if differ:
            shown = "; ".join(
                f"{k}: {stored.get(k)!r} there, {described.get(k)!r} now"
                for k in differ
            )
            raise ValueError(
                f"Checkpoint {self.path} holds runs made with other settings "
                f"({shown}). Resume it with the same settings or pass another "
                "checkpoint path."
            )
        text = self.path.read_text()
        if not text.endswith("\n"):  # the last row was cut short
            text = text[: text.rfind("\n") + 1]
            self.path.write_text(text)
        if text.count("\n") < 2:  # no complete row: the next one writes the header
            self.path.unlink()
            return {}
        return self._rows(text)

    def runs(self):
        """``(dataset, model, seed)`` of every complete row; empty if none.

        Reads without settings and changes nothing (a last line cut short is
        left out, not removed).
        """
        if not self.exists():
            return set()
        text = self.path.read_text()
        return set(self._rows(text[: text.rfind("\n") + 1]))

    def _rows(self, text):
        if text.count("\n") < 2:
            return {}
        runs = pd.read_csv(io.StringIO(text), dtype=self._STRINGS)
        runs = runs.fillna(dict.fromkeys(self._STRINGS, ""))
        return {
            (row["dataset"], row["model"], int(row["seed"])): row
            for row in runs.to_dict("records")
        }

    def append(self, row):
        """Add one run's row (with the header if the CSV is new)."""
        line = pd.DataFrame([row]).to_csv(index=False, header=not self.path.exists())
        with self.path.open("a") as file:
            file.write(line)

    def remove(self):
        """Delete the CSV and its settings file (either may be absent)."""
        for path in (self.path, self.settings_path):
            path.unlink(missing_ok=True)
