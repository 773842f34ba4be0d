"""Saving and loading: safetensors + JSON only (no pickle), written atomically (temp dir, then rename).

Also what a saved model and a training checkpoint agree on: the layout FORMAT, the order of
validation results (rank_key: early stopping, `tune` and load_model's choice of the best mode), and
the training checkpoint itself (weights, optimiser, scheduler, RNG, loop state incl. the losses of
the epoch in progress, so a run resumed mid-epoch logs the same loss as an uninterrupted one).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors.torch import load_file, save_file

from graphassoc import runs

if TYPE_CHECKING:
    from graphassoc.model.net import HybridNet


def replace_dir(tmp: Path, final: Path) -> None:
    """Move a complete temp directory into place (runs.replace_dir), never over a directory the package did not make."""
    if final.exists():
        runs.check_replaceable(final, "model")
    runs.replace_dir(tmp, final, "model")


def fresh_tmp(final: Path) -> Path:
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def save_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(path))


def load_tensors(path: Path, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    return load_file(str(path), device=str(device))


def optimizer_to_flat(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """An optimizer's state as flat tensors + JSON (param_groups), instead of a pickled state_dict."""
    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for pid, state in sd["state"].items():
        for name, value in state.items():
            if torch.is_tensor(value):
                tensors[f"{pid}.{name}"] = value
            else:
                scalars[f"{pid}.{name}"] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def optimizer_from_flat(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    state: dict[int, dict[str, Any]] = {}
    for key, value in list(tensors.items()) + list(meta["scalars"].items()):
        pid, name = key.split(".", 1)
        state.setdefault(int(pid), {})[name] = value
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


FORMAT = 3  # bump when the saved layout changes incompatibly (3: score terms as named submodules)


def rank_key(metrics: dict[str, Any]) -> tuple[bool, float]:
    """The order of validation results: an epoch that reaches train.new_item_hr beats one that does not,
    then the overall HR@10 at the calibrated new-item offset."""
    return bool(metrics.get("new_item_target_met")), float(metrics["select"])


def diff_keys(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> str:
    """Dotted keys where two nested dicts differ (which settings make a checkpoint incompatible)."""
    keys = []
    for k in sorted(set(a) | set(b)):
        va, vb = a.get(k), b.get(k)
        if isinstance(va, dict) and isinstance(vb, dict):
            sub = diff_keys(va, vb, f"{prefix}{k}.")
            if sub:
                keys.append(sub)
        elif va != vb:
            keys.append(f"{prefix}{k}")
    return ", ".join(keys)


def save_training(directory: Path, net: torch.nn.Module, opt: torch.optim.Optimizer, sched: Any,
                  state: dict[str, Any], encoder: torch.nn.Module | None) -> None:
    """The resumable state of a training run, atomically replacing the previous one."""
    from graphassoc.runs import write_json

    tmp = fresh_tmp(directory)
    save_tensors(tmp / "net.safetensors", net.state_dict())
    tensors, opt_meta = optimizer_to_flat(opt)
    save_tensors(tmp / "optimizer.safetensors", tensors)
    if encoder is not None:
        save_tensors(tmp / "encoder.safetensors", encoder.state_dict())
    save_tensors(tmp / "rng.safetensors", {"torch": torch.get_rng_state()})
    write_json(tmp / "state.json", {**state, "optimizer": opt_meta, "scheduler": sched.state_dict()})
    replace_dir(tmp, directory)


def load_training(directory: Path, net: HybridNet, opt: torch.optim.Optimizer, sched: Any,
                  saved: dict[str, Any], device: torch.device) -> None:
    """Restore what save_training wrote (the encoder is restored where it is loaded)."""
    net.load(load_tensors(directory / "net.safetensors", device))
    optimizer_from_flat(opt, load_tensors(directory / "optimizer.safetensors", device), saved["optimizer"])
    sched.load_state_dict(saved["scheduler"])
    torch.set_rng_state(load_tensors(directory / "rng.safetensors")["torch"])
