"""compare gains the personal rankers, the history strata and the audience evaluation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path


def test_compare_reports_personal_rankers_and_history_strata(user_run: Path, tmp_path: Path):
    from graphassoc.config import load_run_config
    from graphassoc.evaluate.compare import compare

    run = tmp_path / "run"
    shutil.copytree(user_run, run, ignore=shutil.ignore_patterns("compare"))
    cfg = load_run_config(run, None, ["users.compare_rankers=[ease+repeat, personal, personal-rerank]", "users.rerank_draws=2"])
    result = compare(run, cfg)
    assert {"ease+repeat", "personal", "personal-rerank"} <= set(result.metrics)
    sizes = result.strata_sizes
    assert sizes["with_history"] + sizes["no_history"] == result.n_queries
    doc = json.loads((run / "compare" / "metrics.json").read_text())
    section = doc["personal"]
    assert section["queries_with_history"] == sizes["with_history"]
    assert set(section["audience"]["recall@n"]) == {"audience", "co-purchase", "most-active"}
    best = section["with_history"]["best_non_personal"]
    hr = section["with_history"]["hr@10"]
    assert abs(section["with_history"]["ratio_to_best_non_personal"]["personal"] - hr["personal"] / hr[best]) < 1e-3
    assert "Stratum with_history" in (run / "compare" / "report.md").read_text()
