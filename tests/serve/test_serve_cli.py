"""`graphassoc serve` argument errors (one line, before anything loads) and the multi-worker factory."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from graphassoc.cli.main import app


def test_bad_run_and_bad_setting_are_one_line_errors(tmp_path: Path, served_run: Path) -> None:
    missing = CliRunner().invoke(app, ["serve", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "does not exist" in missing.output and "Traceback" not in missing.output
    bad = CliRunner().invoke(app, ["serve", str(served_run), "--set", "serve.max_kk=3"])
    assert bad.exit_code == 2 and "serve.max_kk" in bad.output and "serve.max_k" in bad.output


def test_worker_factory_reads_the_run_and_config_from_the_environment(served_run: Path, monkeypatch) -> None:
    from graphassoc.serve.app import app_from_env

    monkeypatch.setenv("GRAPHASSOC_SERVE_RUN", str(served_run))
    monkeypatch.setenv("GRAPHASSOC_SERVE_CONFIG", '{"max_k": 7, "methods": ["cooccurrence"]}')
    built = app_from_env()
    assert built.state.holder.run_dir == served_run and built.state.holder.cfg.max_k == 7
    assert built.openapi()["components"]["schemas"]["RecommendRequest"]["properties"]["k"]["maximum"] == 7
