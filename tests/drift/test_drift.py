"""`graphassoc drift` on two planted periods: a later period where pairs change partners, new products
sell and baskets grow. Figures are checked against plain-Python recounts of the runs' own files."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from graphassoc.cli.main import app

SETS = ["seed=0", "split.valid_fraction=0.1", "split.test_fraction=0.2", "mining.min_support=0.03",
        "mining.min_confidence=0.1", "graph.min_count=1", "evaluate.ease_lambdas=[10.0]", "recommend.method=cooccurrence"]


def _period(start: date, n: int, seed: int, later: bool) -> list[dict]:
    """Items a0..a9 bought in pairs (2k, 2k+1); later: partners shift to (2k+1, 2k+2), new products nX sell, baskets grow."""
    rng = np.random.default_rng(seed)
    rows = []
    for b in range(n):
        k = int(rng.integers(4))
        pair = [2 * k + 1, 2 * k + 2] if later else [2 * k, 2 * k + 1]
        items = [f"a{i}" for i in pair]
        items += [f"a{int(i)}" for i in rng.choice(10, size=int(rng.integers(0, 3 if later else 2)), replace=False)]
        if later and rng.random() < 0.4:
            items.append(f"n{int(rng.integers(3))}")
        day = start + timedelta(days=int(b * 60 / n))
        prefix = "L" if later else "E"
        rows += [{"basket_id": f"{prefix}{b:04d}", "item_id": i, "timestamp": f"{day} 10:00:00", "title": f"thing {i}"}
                 for i in dict.fromkeys(items)]
    return rows


def _build(root: Path, rows: list[dict]) -> Path:
    from graphassoc.config import load_config
    from graphassoc.pipeline import build_graph

    root.mkdir(parents=True)
    pl.DataFrame(rows).write_csv(root / "tx.csv")
    build_graph(load_config(None, SETS), root / "tx.csv", None, root / "run")
    return root / "run"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("drift")
    early = _period(date(2024, 1, 1), 300, 0, later=False)
    late = _period(date(2024, 3, 1), 300, 1, later=True)
    # The new run is cumulative (both periods), as a nightly re-export would be: drift must compare the new part.
    return _build(root / "old", early), _build(root / "new", early + late)


def _rules(run: Path) -> set[tuple[tuple[str, ...], tuple[str, ...]]]:
    table = pl.read_parquet(run / "rules.parquet")
    return {(tuple(a), tuple(c)) for a, c in zip(table["antecedents"].to_list(), table["consequents"].to_list())}


def test_drift_figures_match_recounts_and_alerts_exit_3(runs: tuple[Path, Path], tmp_path: Path) -> None:
    old, new = runs
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["drift", str(old), str(new), "--out", str(out), "--json",
                                      "--set", "drift.max_new_item_share=0.2", "--set", "drift.min_old_model_hr10=null"])
    assert result.exit_code == 3, result.output
    d = json.loads(result.stdout.strip().splitlines()[-1])

    before, after = _rules(old), _rules(new)
    assert d["rules"]["appeared"] == len(after - before) and d["rules"]["vanished"] == len(before - after)
    assert d["rules"]["common"] == len(before & after)

    old_baskets = pl.read_parquet(old / "baskets.parquet")
    period = pl.read_parquet(new / "baskets.parquet").filter(pl.col("basket_id").str.starts_with("L"))
    assert d["new_period"]["baskets"] == period.height
    sold_before = {i for b in old_baskets["items"].to_list() for i in b}
    sold_now = {i for b in period["items"].to_list() for i in b}
    assert d["products"]["new_items"] == len(sold_now - sold_before) == 3
    assert {x["item_id"] for x in d["products"]["top"]} == {"n0", "n1", "n2"}
    for x in d["products"]["top"]:
        assert x["baskets"] == sum(1 for b in period["items"].to_list() if x["item_id"] in b)
    sizes = [len(b) for b in period["items"].to_list()]
    assert d["baskets"]["new"]["mean_size"] == pytest.approx(np.mean(sizes))
    assert d["baskets"]["old"]["mean_size"] == pytest.approx(np.mean([len(b) for b in old_baskets["items"].to_list()]))

    hr = d["old_model"]["new_period"]
    assert hr["queries"] == sum(1 for s in sizes if s >= 2) and hr["method"] == "cooccurrence"
    # The partners moved: the old co-occurrence model does far worse on the new period than on its own.
    assert hr["hr@10"] < d["old_model"]["own_test_period"]["hr@10"]
    share = len(sold_now - sold_before) / len(sold_now)
    assert d["alerts"] == [
        f"{abs(np.mean(sizes) / d['baskets']['old']['mean_size'] - 1):.1%} change of the mean basket size (drift.max_basket_size_shift = 25.0%)",
        f"{share:.1%} of the items sold are new products (drift.max_new_item_share = 20.0%)"]
    html = (out / "report.html").read_text()
    assert html.index("class='finding'") < html.index("<table>") and "n0" in html
    assert "## Alerts" in (out / "report.md").read_text()
    assert json.loads((out / "drift.json").read_text())["alerts"] == d["alerts"]
    relaxed = CliRunner().invoke(app, ["drift", str(old), str(new), "--out", str(tmp_path / "relaxed"), "--set",
                                       "drift.max_basket_size_shift=1", "--set", "drift.min_old_model_hr10=null"])
    assert relaxed.exit_code == 0, relaxed.output


def test_no_drift_against_itself_and_one_line_errors(runs: tuple[Path, Path], tmp_path: Path) -> None:
    old, _new = runs
    result = CliRunner().invoke(app, ["drift", str(old), str(old), "--out", str(tmp_path / "r")])
    assert result.exit_code == 1 and "holds no basket after the last one" in result.output
    missing = CliRunner().invoke(app, ["drift", str(old), str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    bad = CliRunner().invoke(app, ["drift", str(old), str(old), "--set", "drift.nope=1"])
    assert bad.exit_code == 2 and "drift.nope" in bad.output
