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
