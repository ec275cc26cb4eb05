"""The docs say what the project declares and measured.

docs/install.rst against pyproject.toml (Python floor, dependencies, extras), and
the benchmarks page's headline against the committed result files.
"""

import importlib.util
import re
from pathlib import Path

import pandas as pd

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest depends on tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PAGE = (ROOT / "docs" / "install.rst").read_text()


def _section(title):
    """The text of one section of the page, from its title to the next one."""
    match = re.search(
        rf"^{re.escape(title)}\n-+\n(.*?)(?=^\S[^\n]*\n-+\n|\Z)",
        PAGE,
        flags=re.M | re.S,
    )
    assert match, f"install.rst has no section {title!r}"
    return match.group(1)


def _definitions(text):
    """``{term: description}`` of a reST definition list whose terms are literals."""
    items, term = {}, None
    for line in text.splitlines():
        if line.startswith("``"):
            term = line.strip()
            items[term] = ""
        elif term and line.startswith("   "):
            items[term] += " " + line.strip()
        elif line.strip():
            term = None
    return items


def _name(requirement):
    """Distribution name of a requirement string, normalised as PEP 503 does."""
    name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)
    return re.sub(r"[-_.]+", "-", name).lower()


def _mentioned(text):
    return {
        re.sub(r"[-_.]+", "-", word).lower()
        for word in re.findall(r"``([^`]+)``", text)
    }


def test_python_floor_matches():
    floor = PROJECT["requires-python"].removeprefix(">=")
    assert f"needs Python {floor} or newer" in PAGE


def test_every_dependency_is_listed_with_its_floor():
    listed = " ".join(_definitions(_section("Dependencies")))
    for requirement in PROJECT["dependencies"]:
        assert f"``{requirement}``" in listed, requirement


def test_the_page_lists_no_dependency_pyproject_lacks():
    declared = {_name(r) for r in PROJECT["dependencies"]}
    for term in _definitions(_section("Dependencies")):
        for literal in re.findall(r"``([^`]+)``", term):
            assert _name(literal) in declared, literal


def test_every_extra_is_described_with_what_it_adds():
    extras = PROJECT["optional-dependencies"]
    described = _definitions(_section("Optional extras"))
    assert set(described) == {f"``{name}``" for name in extras}
    for name, requirements in extras.items():
        text = described[f"``{name}``"]
        mentioned = _mentioned(text)
        for requirement in requirements:
            inner = re.match(r"moe-tabular\[(.*)\]", requirement)
            if inner:  # an extra made of other extras: the page names them
                for other in inner.group(1).split(","):
                    assert f"``{other}``" in text, (name, other)
            else:
                base = _name(requirement)
                assert any(m.startswith(base) for m in mentioned), (name, requirement)


def test_install_commands_name_existing_extras():
    extras = set(PROJECT["optional-dependencies"])
    for group in re.findall(r'"\.\[([a-z,]+)\]"', PAGE):
        assert set(group.split(",")) <= extras, group


def test_page_has_no_placeholder_address():
    assert "<repository>" not in PAGE
    assert "git clone" not in PAGE  # no public address yet: "a source checkout"


def _headline_module():
    path = ROOT / "docs" / "sphinxext" / "benchmark_headline.py"
    spec = importlib.util.spec_from_file_location("benchmark_headline", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_headline_says_not_yet_run_instead_of_a_number(tmp_path, monkeypatch):
    """A question whose run is not committed gets a note, not a number."""
    headline = _headline_module()
    monkeypatch.setattr(headline, "OUT", tmp_path)
    monkeypatch.setitem(headline.SOURCES, "real_suite", ["no-such-run"])
    monkeypatch.setitem(headline.SOURCES, "real_early", "no-such-run-either")
    text = headline.write_headline().read_text()
    real = text[text.index("Real tables\n---") : text.index("Fit time over rows\n---")]
    assert "Not yet run" in real
    assert not re.search(r"\d\.\d{3}", real)  # no accuracy in that section
    numbers = (tmp_path / "numbers.rst").read_text()
    assert ".. |real_suite_status| replace:: not yet run" in numbers
    assert (tmp_path / "overview.png").exists()


def test_headline_numbers_are_the_committed_runs_means(tmp_path, monkeypatch):
    headline = _headline_module()
    monkeypatch.setattr(headline, "OUT", tmp_path)
    text = headline.write_headline().read_text()
    runs = pd.read_csv(
        ROOT
        / "benchmarks"
        / "results"
        / headline.SOURCES["simulation"]["ours"]
        / "runs.csv"
    )
    ours = runs[runs.model == headline.OURS].groupby("dataset").ood_accuracy
    for dataset, mean in ours.mean().items():
        row = text[text.index(f"* - ``{dataset}``") :]
        assert row.split("\n")[1].strip().startswith(f"- {mean:.3f} ±"), dataset


def test_peer_numbers_pair_each_peer_with_ours_on_shared_runs(tmp_path, monkeypatch):
    headline = _headline_module()
    columns = ["dataset", "seed", "model", "ood_accuracy"]
    real = pd.DataFrame(
        [("a", 1, "moe:default", 0.8), ("a", 2, "moe:default", 0.6)]
        + [("b", 1, "moe:default", 0.5), ("b", 1, "hgb", 0.9)],
        columns=columns,
    )
    peers = pd.DataFrame(  # tabm skipped table b
        [("a", 1, "tabm", 0.7), ("a", 2, "tabm", 0.9)], columns=columns
    )
    (tmp_path / "peers").mkdir()
    peers.to_csv(tmp_path / "peers" / "runs.csv", index=False)
    monkeypatch.setattr(headline, "RESULTS", tmp_path)
    monkeypatch.setitem(headline.SOURCES, "real_peers", ["peers", "not-run"])
    values = headline._peer_numbers(real)
    assert values["peers_tabm"] == "0.800"
    assert values["peers_tabm_ours"] == "0.700"  # table a alone
    assert values["peers_tabm_n"] == "1"
    assert values["peers_tabm_wins"] == "0 of 1"
    assert values["peers_seeds"] == "2"
    assert not any(key.startswith("peers_realmlp") for key in values)


def test_every_model_has_its_own_colour():
    headline = _headline_module()
    models = {headline.ALIASES.get(m, m) for m in headline.MODEL_NAMES}
    colours = {m: headline._color(m) for m in models}
    assert len(set(colours.values())) == len(models), colours
    assert headline._color("ours") == headline._color(headline.OURS)
    assert headline._color("histgb") == headline._color("hgb")


def test_wide_tables_put_their_plot_full_width_and_no_stale_stand_in(
    tmp_path, monkeypatch
):
    headline = _headline_module()
    monkeypatch.setattr(headline, "OUT", tmp_path)
    text = headline.write_headline().read_text()
    for png in ("real.png", "fit_time.png"):
        block = text[text.index(f"/generated/headline/{png}") :]
        assert block.split("\n")[2].strip() == ":width: 100%", png
    # the earlier, smaller run stands in only while the full suite is missing
    assert "Until then" not in text
    assert not (tmp_path / "real_early.png").exists()


def test_majority_ties_are_the_tables_where_it_matches_the_best_model(
    tmp_path, monkeypatch
):
    headline = _headline_module()
    monkeypatch.setattr(headline, "OUT", tmp_path)
    folder = next(f for f in headline.SOURCES["real_suite"] if (
        ROOT / "benchmarks" / "results" / f).exists())  # fmt: skip
    runs = pd.read_csv(ROOT / "benchmarks" / "results" / folder / "runs.csv")
    acc = runs.groupby(["dataset", "model"]).ood_accuracy.mean().unstack()
    shown = acc.round(3)
    best = shown.drop(columns="majority").max(axis=1)
    ties = sorted(shown.index[shown["majority"] >= best - 0.0011])
    assert ties  # bank-marketing, diabetes-130 and happiness in ood-real-suite-5seeds
    headline.write_headline()
    numbers = (tmp_path / "numbers.rst").read_text()
    assert f"|real_majority_ties| replace:: {len(ties)} of {len(acc)}" in numbers
    line = next(x for x in numbers.splitlines() if "|real_majority_tables|" in x)
    assert sorted(re.findall(r"``([^`]+)``", line)) == ties
    page = (ROOT / "docs" / "when_to_use.rst").read_text()
    assert "|real_majority_ties|" in page and "|real_majority_tables|" in page
