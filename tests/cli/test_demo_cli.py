"""`graphassoc demo` runs every stage on the fixture and leaves a complete run directory."""

import json
from pathlib import Path

from typer.testing import CliRunner

from graphassoc.cli.main import app


def test_demo_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ["meta.json", "rules.parquet", "graph/edges.parquet", "model/related.parquet",
                 "compare/report.html", "compare/metrics.json", "exports/turtle/graph.ttl"]:
        assert (out / name).is_file(), name
    metrics = json.loads((out / "compare" / "metrics.json").read_text())
    rankers = set(metrics["metrics"])
    assert {"rules", "ease", "text", "hybrid", "gnn-no-text", "model-frozen"} <= rankers
    assert "comparison report" in result.output
    # The model against the strongest baseline on the fixture's held-out (test) baskets, seed 0.
    # Measured: HR@10 model-frozen 0.222, EASE 0.217 (608 queries); never-seen 0.098 vs 0 (41 queries).
    # The stated margin: overall no worse than EASE, and >= 0.05 HR@10 on never-seen products (which
    # EASE cannot rank); the hybrid (EASE + model) beats EASE outright.
    hr = {name: m["overall"]["hr@10"] for name, m in metrics["metrics"].items()}
    never_seen = {name: m["strata"]["never_seen"]["hr@10"] for name, m in metrics["metrics"].items()}
    assert hr["model-frozen"] >= hr["ease"]
    assert never_seen["model-frozen"] >= never_seen["ease"] + 0.05
    assert hr["hybrid"] >= hr["ease"] + 0.005
