"""A trained model's directory (model-best, model-last): weights, item texts, encoder, config.json."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch

from graphassoc.config import Config
from graphassoc.model import checkpoint as ck
from graphassoc.runs import write_json
from graphassoc.text.encoder import LoadedEncoder


def items_fingerprint(item_ids: list[str]) -> str:
    """Of the whole catalogue in order: a model fits a run only if every item id is where it was trained."""
    return hashlib.sha256("\x1f".join(item_ids).encode()).hexdigest()[:16]


def model_meta(cfg: Config, data: Any, name: str, seed: int, text: torch.Tensor | None, encoder: LoadedEncoder | None,
               epoch: int, metrics: dict[str, Any] | None) -> dict[str, Any]:
    ids = data.items["item_id"].to_list()
    return {"format": ck.FORMAT, "name": name, "mode": cfg.train.mode, "train": cfg.train.model_dump(mode="json"),
            "text": cfg.text.model_dump(mode="json"), "ease": cfg.ease.model_dump(mode="json"), "n_items": data.n_items,
            "text_dim": int(text.shape[1]) if text is not None else 0,
            "item_ids_head": ids[:5], "items_fingerprint": items_fingerprint(ids), "seed": seed, "epoch": epoch,
            "valid": metrics, "fine_tuned_encoder": encoder is not None,
            "train_baskets_fingerprint": data.train_fingerprint}


def save_model(directory: Path, net: torch.nn.Module, text: torch.Tensor | None, encoder: LoadedEncoder | None,
               meta: dict[str, Any]) -> None:
    tmp = ck.fresh_tmp(directory)
    ck.save_tensors(tmp / "model.safetensors", net.state_dict())
    if text is not None:
        ck.save_tensors(tmp / "item_text.safetensors", {"text": text})
    if encoder is not None:
        encoder.model.save_pretrained(tmp / "encoder", safe_serialization=True)
        encoder.tokenizer.save_pretrained(tmp / "encoder")
    write_json(tmp / "config.json", meta)
    ck.replace_dir(tmp, directory)
