"""Item text embeddings for the GNN input: fixed (frozen, two-stage) or partly live (joint), and the step
that prepares them for each training mode (stage 1 of two-stage runs here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from graphassoc.config import Config
from graphassoc.model import checkpoint as ck
from graphassoc.model.config import TrainConfig
from graphassoc.model.finetune import autocast, contrastive_finetune
from graphassoc.runs import Run
from graphassoc.text.config import TextConfig
from graphassoc.text.encoder import LoadedEncoder, embed, encode_with, item_embeddings, load_encoder


class TextFeatures:
    def __init__(self, cache: torch.Tensor | None, encoder: LoadedEncoder | None, texts: list[str], text_cfg: TextConfig,
                 cfg: TrainConfig) -> None:
        self.cache, self.encoder, self.texts, self.text_cfg, self.cfg = cache, encoder, texts, text_cfg, cfg
        self.steps = 0

    @property
    def live(self) -> bool:
        return self.encoder is not None and self.cfg.mode == "joint"

    def for_step(self, touched: np.ndarray, rng: np.random.Generator) -> torch.Tensor | None:
        """Joint: re-encode (with gradients) up to joint_items of the items this step touches."""
        if not self.live or self.cache is None:
            return self.cache
        self.steps += 1
        if self.steps % self.cfg.refresh_steps == 0:
            self.refresh()
        chosen = touched if len(touched) <= self.cfg.joint_items else rng.choice(touched, self.cfg.joint_items, replace=False)
        with autocast(self.encoder.device):
            fresh = embed(self.encoder, [self.texts[i] for i in chosen], self.text_cfg.max_length).float()
        idx = torch.as_tensor(chosen, device=self.cache.device)
        return self.cache.index_put((idx,), fresh)

    def refresh(self) -> None:
        assert self.encoder is not None
        vecs = encode_with(self.encoder, self.texts, self.text_cfg.batch_size, self.text_cfg.max_length)
        self.cache = torch.from_numpy(vecs).to(self.cache.device if self.cache is not None else self.encoder.device)


Hook = Callable[[dict[str, Any]], None] | None


def prepare_text(run: Run, cfg: Config, data: Any, work: Path, device: torch.device, seed: int, resuming: bool,
                 progress: Callable[[str], None], on_step: Hook) -> tuple[TextFeatures, LoadedEncoder | None, list[float]]:
    """Text features of the mode; the encoder it fine-tunes (two-stage, joint), and stage 1's losses."""
    t = cfg.train
    encoder, text, losses = None, None, []
    if t.use_text and t.mode == "frozen":
        progress("encoding item texts (cached in RUN/text/)")
        text = torch.from_numpy(item_embeddings(run, cfg.text, device, progress=progress))
    elif t.use_text and t.mode == "two-stage":
        enc_dir = work / "encoder"
        if not (enc_dir / "config.json").is_file():
            progress(f"stage 1: contrastive fine-tuning of the encoder ({t.contrastive_steps} steps)")
            encoder = load_encoder(cfg.text, device, fresh=True)
            losses = contrastive_finetune(
                encoder, data.texts, data.context_lists, t, cfg.text.max_length, np.random.default_rng([seed, 7]),
                on_step=lambda s, loss: on_step and on_step({"phase": "contrastive", "step": s + 1,
                                                             "steps": t.contrastive_steps, "loss": loss}))
            tmp = ck.fresh_tmp(enc_dir)
            encoder.model.save_pretrained(tmp, safe_serialization=True)
            encoder.tokenizer.save_pretrained(tmp)
            ck.replace_dir(tmp, enc_dir)
        tuned = cfg.text.model_copy(update={"model": str(enc_dir)})
        encoder = load_encoder(tuned, device, fresh=True)
        progress("stage 2: re-encoding item texts with the fine-tuned encoder")
        text = torch.from_numpy(item_embeddings(run, tuned, device, progress=progress))
    elif t.use_text:  # joint
        encoder = load_encoder(cfg.text, device, fresh=True)
        if resuming and (work / "checkpoint" / "encoder.safetensors").is_file():
            encoder.model.load_state_dict(ck.load_tensors(work / "checkpoint" / "encoder.safetensors", device))
        progress("encoding item texts (joint mode: cache refreshed every %d steps)" % t.refresh_steps)
        text = torch.from_numpy(encode_with(encoder, data.texts, cfg.text.batch_size, cfg.text.max_length, progress))
    if text is not None:
        text = text.to(device)
    feats = TextFeatures(text, encoder if t.mode == "joint" else None, data.texts, cfg.text, t)
    return feats, encoder, losses
