"""The whole pipeline on the bundled fixture: what `graphassoc demo` runs."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from graphassoc.config import load_config

FIXTURE = Path(__file__).resolve().parent.parent / "data" / "fixtures" / "online_retail_sample.parquet"
# The fixture has 12% of the baskets: the full data's min_support 0.005 would be a count of 8 here and
# give ~285k rules of little meaning, so the demo asks for stronger evidence.
DEMO_OVERRIDES = ["mining.min_support=0.01", "mining.max_len=3", "graph.min_count=3"]


def demo_config(seed: int = 0):  # -> Config
    return load_config("online_retail", [f"seed={seed}", *DEMO_OVERRIDES])


def run_demo(out: Path, log: Callable[[str], None] = print, seed: int = 0):  # -> CompareResult
    """build-graph -> train -> compare -> export on the fixture (UCI preset, time split), replacing `out`."""
    from graphassoc.evaluate.compare import compare
    from graphassoc.export import export
    from graphassoc.model import train
    from graphassoc.pipeline import build_graph

    cfg = demo_config(seed)
    build_graph(cfg, FIXTURE, None, out, overwrite=True, progress=log)
    # The model, then the same GNN without text: the baseline that shows what the text brings.
    for train_cfg in (cfg, cfg.model_copy(update={"train": cfg.train.model_copy(update={"use_text": False})})):
        trained = train(out, train_cfg, progress=log, overwrite=True)
        log(f"model {trained.name}: validation HR@10 {trained.best.get('hr@10', float('nan')):.3f} "
            f"(epoch {trained.best_epoch}, {trained.seconds:.0f}s)")
    result = compare(out, cfg, progress=log, overwrite=True)
    exported = export(out, "all", cfg=cfg.export, overwrite=True)
    log(f"exports: {', '.join(sorted(exported.folders))} in {out / 'exports'}")
    return result
