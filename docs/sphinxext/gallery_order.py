"""Order of the examples in the gallery (sphinx-gallery ``within_subsection_order``).

Named examples come first, in the order below (a reader's path through the
package); any other example follows, by file name.
"""

from pathlib import Path

FIRST = (
    "plot_quickstart.py",
    "plot_ood_auto_mpg.py",
    "plot_pipeline_grid_search.py",
    "plot_regression.py",
    "plot_moe_lens.py",
)


class ReadingOrder:
    """Sort key: position in ``FIRST``, then file name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = Path(filename).name
        rank = FIRST.index(name) if name in FIRST else len(FIRST)
        return f"{rank:03d}-{name}"

    def __repr__(self):
        return f"<{type(self).__name__}>"
