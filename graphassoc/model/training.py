"""`train`: the hybrid model (encoder + GNN + EASE term) in one of three modes, on one code path.

Layout written: RUN/model/<name>/{model-best,model-last}/ (model.safetensors, item_text.safetensors,
config.json, newness.json + newness.png (the new-item offset swept on validation), encoder/ when
fine-tuned), metrics.jsonl, curves.png, summary.json; RUN/model/related.parquet.
Work happens in RUN/model/.<name>.partial/ (checkpoint included) and is renamed into place at the end,
so a killed run leaves nothing that looks complete, and rerunning the same command resumes it.
The loop itself is model/trainer.py's Trainer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from graphassoc.config import Config
from graphassoc.errors import UsageError
from graphassoc.model import checkpoint as ck
from graphassoc.model.config import TrainConfig
from graphassoc.model.data import Data, load_data
from graphassoc.model.distributed import is_main_process
from graphassoc.model.results import TrainResult
from graphassoc.model.trainer import Progress, StepHook, Trainer
from graphassoc.runs import Run, first_seed, peak_rss_mb, seed_everything, update_meta, write_parquet
from graphassoc.text.encoder import resolve_model_dir

__all__ = ["train", "TrainResult"]


def resolve_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("train.device=cuda but no CUDA device is available; use --set train.device=cpu (or auto)")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def mode_name(cfg: TrainConfig) -> str:
    return cfg.name or (cfg.mode if cfg.use_text else "no-text")


def check_config(cfg: Config) -> None:
    t = cfg.train
    if not t.use_text and not t.use_id_embedding:
        raise UsageError("train.use_text=false needs train.use_id_embedding=true (the model needs some item input)")
    if t.mode != "frozen" and cfg.text.quantize != "none":
        raise UsageError(f"train.mode={t.mode} fine-tunes the encoder, which int8 quantisation forbids; "
                         "use text.quantize=none")
    if not t.use_text and t.mode != "frozen":
        raise UsageError("train.use_text=false trains no encoder; use train.mode=frozen with it")
    if t.use_text:
        resolve_model_dir(cfg.text.model)  # a bad text.model fails before any work starts


def _fingerprint(cfg: Config, data: Data, seed: int) -> dict[str, Any]:
    # Everything that makes a checkpoint (in)compatible with the command being run.
    return {"format": ck.FORMAT, "seed": seed, "n_items": data.n_items, "train": cfg.train.model_dump(mode="json"),
            "text": cfg.text.model_dump(mode="json"), "ease": cfg.ease.model_dump(mode="json")}


def _saved_state(work: Path, fp: dict[str, Any]) -> dict[str, Any] | None:
    """The interrupted run's checkpoint state, if there is one and it comes from the same settings."""
    state_file = work / "checkpoint" / "state.json"
    if not state_file.is_file():
        return None
    saved = ck.read_json(state_file)
    if saved.get("fingerprint") != fp:
        diff = ck.diff_keys(saved.get("fingerprint") or {}, fp)
        raise UsageError(f"the checkpoint in '{work}' comes from an incompatible config (differs in: {diff}); "
                         f"rerun with the same settings to resume, or delete that directory to start over")
    return saved


def train(run_dir: str | Path, cfg: Config, progress: Progress = lambda _m: None, overwrite: bool = False,
          on_step: StepHook | None = None, model_root: Path | None = None) -> TrainResult:
    """Train one mode of the hybrid model; resume from RUN/model/.<name>.partial/ when a run was interrupted.

    `model_root` (default RUN/model) lets `tune` keep its trials out of the models that compare reads;
    related.parquet and meta.json timings are written only for the default root.
    """
    run = Run(run_dir, "items.parquet", "baskets.parquet", "graph/edges.parquet")
    check_config(cfg)
    device = resolve_device(cfg.train.device)
    name = mode_name(cfg.train)
    deploy = model_root is None
    model_root = Path(model_root) if model_root is not None else run.path / "model"
    out = model_root / name
    if out.exists() and not overwrite:
        raise UsageError(f"'{out}' already exists; pass --overwrite to retrain it, or --set train.name=OTHER")
    seed = first_seed(cfg.seed, run.config.seed)
    seed_everything(seed)
    data = load_data(run, cfg, seed)
    work = model_root / f".{name}.partial"
    fp = _fingerprint(cfg, data, seed)
    saved = _saved_state(work, fp)
    work.mkdir(parents=True, exist_ok=True)
    result = Trainer(run, cfg, data, work, out, seed, device, fp, saved, progress, on_step).fit()
    if deploy and is_main_process():  # under torchrun, rank 0 alone writes
        progress("scoring related items for RUN/model/related.parquet")
        from graphassoc.model.load import load_model

        write_parquet(model_root / "related.parquet", load_model(run.path, name).related(cfg.train.related_k))
        update_meta(run.path, timings={f"train:{name}": {"seconds": round(result.seconds, 3), "peak_rss_mb": peak_rss_mb()}})
    return result
