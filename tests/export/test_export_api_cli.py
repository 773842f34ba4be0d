"""export() and `graphassoc export`: where files go, no overwrite unless asked, one-line errors, privacy."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from odd_run import CUSTOMERS
from typer.testing import CliRunner

from graphassoc.cli.main import app
from graphassoc.errors import UsageError
from graphassoc.export import ExportConfig, export
from graphassoc.export.registry import EXPORTERS

FORMATS = ["turtle", "ntriples", "graphml", "gexf", "neo4j", "pykeen", "parquet"]
runner = CliRunner()


def _cli(args: list[str]) -> tuple[int, str]:
    result = runner.invoke(app, args)
    text = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "Traceback" not in text
    return result.exit_code, " ".join(text.split())


def test_every_format_is_registered() -> None:
    assert sorted(EXPORTERS.names()) == sorted(FORMATS)
    code, text = _cli(["ls", "exporters"])
    assert code == 0 and all(name in text for name in FORMATS)


def test_default_folder_manifest_and_timings(run_dir: Path) -> None:
    result = export(run_dir, "parquet")
    folder = run_dir / "exports" / "parquet"
    assert result.folders == {"parquet": folder}
    manifest = json.loads((folder / "export.json").read_text())
    assert manifest["files"]["edges.parquet"] == pl.read_parquet(folder / "edges.parquet").height
    assert manifest["counts"]["products"] == 9 and manifest["config"]["top_k"] is None
    meta = json.loads((run_dir / "meta.json").read_text())
    assert "export.parquet" in meta["timings"] and meta["timings"]["export.parquet"]["seconds"] >= 0


def test_refuses_to_overwrite_unless_asked(run_dir: Path) -> None:
    export(run_dir, "pykeen")
    folder = run_dir / "exports" / "pykeen"
    (folder / "mine.txt").write_text("keep me")
    with pytest.raises(UsageError, match="already exists"):
        export(run_dir, "pykeen", cfg=ExportConfig(top_k=1))
    assert (folder / "mine.txt").exists()
    export(run_dir, "pykeen", cfg=ExportConfig(top_k=1), overwrite=True)
    assert not (folder / "mine.txt").exists() and json.loads((folder / "export.json").read_text())["config"]["top_k"] == 1


def test_a_failing_exporter_leaves_nothing_behind(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(tables, out_dir, cfg):  # type: ignore[no-untyped-def]
        (out_dir / "half.csv").write_text("half")
        raise RuntimeError("disk full")

    assert "neo4j" in EXPORTERS  # loads the formats now, so that loading them later cannot undo the patch
    monkeypatch.setitem(EXPORTERS._entries, "neo4j", (broken, "broken"))
    with pytest.raises(RuntimeError):
        export(run_dir, "neo4j")
    assert not (run_dir / "exports" / "neo4j").exists()
    assert not list((run_dir / "exports").glob(".neo4j*"))


def test_all_writes_every_format_into_its_own_folder(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "everything"
    result = export(run_dir, "all", out=out)
    assert set(result.folders) == set(FORMATS)
    assert all((out / fmt / "export.json").is_file() for fmt in FORMATS)
    with pytest.raises(UsageError, match="already exists"):
        export(run_dir, "all", out=out)


def test_no_customer_id_leaves_the_run(run_dir: Path, tmp_path: Path) -> None:
    assert CUSTOMERS[0] in pl.read_parquet(run_dir / "baskets.parquet")["user_id"].to_list()
    export(run_dir, "all", out=tmp_path / "all")
    files = [p for p in (tmp_path / "all").rglob("*") if p.is_file()]
    assert len(files) > 15
    for path in files:
        data = path.read_bytes()
        for customer in CUSTOMERS:
            assert customer.encode() not in data, path
            assert customer.split("-")[-1].encode() not in data, path  # not even the bare number


def test_without_a_model_there_are_no_similar_links(run_without_model: Path) -> None:
    result = export(run_without_model, "neo4j")
    assert result.counts["similar"] == 0 and "similar.csv" not in result.files["neo4j"]
    assert result.counts["co_purchase"] == pl.read_parquet(run_without_model / "graph" / "edges.parquet").height


def test_cli_exports_with_options(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "kg"
    code, text = _cli(["export", str(run_dir), "--format", "parquet", "--out", str(out), "--top-k", "2", "--min-lift", "1.5"])
    assert code == 0, text
    config = json.loads((out / "export.json").read_text())["config"]
    assert config["top_k"] == 2 and config["min_lift"] == 1.5
    code, text = _cli(["export", str(run_dir), "--format", "parquet", "--out", str(out)])
    assert code == 2 and "already exists" in text and "--overwrite" in text
    code, _ = _cli(["export", str(run_dir), "-f", "parquet", "--out", str(out), "--overwrite", "--set", "export.schema_scheme=http"])
    assert code == 0


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "xml"], "unknown export format 'xml'; valid: turtle, ntriples, graphml, gexf, neo4j, pykeen, parquet, all"),
    (["--format", "turtle", "--top-k", "0"], "config key 'top_k'"),
    (["--format", "turtle", "--set", "export.base_iri=not an iri"], "must be an absolute IRI"),
    (["--format", "turtle", "--set", "export.colour=red"], "unknown config key 'export.colour'"),
])
def test_cli_bad_arguments_end_with_one_line(run_dir: Path, args: list[str], message: str) -> None:
    code, text = _cli(["export", str(run_dir), *args])
    assert code == 2 and message in text, text
    assert not (run_dir / "exports").exists()


def test_cli_missing_run_dir(tmp_path: Path) -> None:
    code, text = _cli(["export", str(tmp_path / "nope"), "--format", "turtle"])
    assert code == 2 and "does not exist" in text


def test_links_to_unknown_items_are_a_data_error(run_dir: Path) -> None:
    edges = pl.read_parquet(run_dir / "graph" / "edges.parquet")
    edges.with_columns(dst=pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("ghost")).otherwise("dst")).write_parquet(
        run_dir / "graph" / "edges.parquet")
    code, text = _cli(["export", str(run_dir), "--format", "parquet"])
    assert code == 1 and "1 item ids missing from items.parquet (e.g. 'ghost')" in text
    assert not (run_dir / "exports" / "parquet").exists()


def test_a_model_file_without_ranks_is_a_data_error(run_dir: Path) -> None:
    related = pl.read_parquet(run_dir / "model" / "related.parquet")
    related.drop("rank").write_parquet(run_dir / "model" / "related.parquet")
    code, text = _cli(["export", str(run_dir), "--format", "turtle"])
    assert code == 1 and "model/related.parquet lacks columns ['rank']" in text
    assert not (run_dir / "exports").exists()
