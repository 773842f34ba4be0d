"""Encoder fine-tuning pieces: which layers learn, and the contrastive two-stage objective."""

from __future__ import annotations

import contextlib
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from graphassoc.model.config import TrainConfig
from graphassoc.text.encoder import LoadedEncoder, embed


def autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA; a no-op on the CPU (same code path, exact fp32 there)."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def trainable_layers(enc: LoadedEncoder, top: int) -> list[torch.nn.Parameter]:
    """Freeze the encoder but its top `top` transformer layers (-1: all); return the trainable parameters."""
    model = enc.model
    for p in model.parameters():
        p.requires_grad_(top == -1)
    if top > 0:
        layers = None
        for name in ("encoder.layer", "transformer.layer", "layers", "encoder.layers"):
            obj = model
            with contextlib.suppress(AttributeError):
                for part in name.split("."):
                    obj = getattr(obj, part)
                layers = obj
                break
        if layers is None:  # an architecture without a known layer list: fine-tune it whole
            for p in model.parameters():
                p.requires_grad_(True)
        else:
            for layer in list(layers)[-top:]:
                for p in layer.parameters():
                    p.requires_grad_(True)
    return [p for p in model.parameters() if p.requires_grad]


def copurchase_pairs(baskets: list[np.ndarray], n: int, rng: np.random.Generator) -> np.ndarray:
    """n (a, b) item pairs bought together: a random basket (of >= 2 items), two distinct items of it."""
    multi = [b for b in baskets if len(b) >= 2]
    picks = rng.integers(len(multi), size=n)
    out = np.empty((n, 2), dtype=np.int64)
    for row, k in enumerate(picks):
        out[row] = rng.choice(multi[k], size=2, replace=False)
    return out


def contrastive_finetune(enc: LoadedEncoder, texts: list[str], baskets: list[np.ndarray], cfg: TrainConfig,
                         max_length: int, rng: np.random.Generator,
                         on_step: Callable[[int, float], None] = lambda step, loss: None) -> list[float]:
    """InfoNCE on co-purchase pairs with in-batch negatives: items bought together get close texts."""
    from transformers import get_constant_schedule_with_warmup

    params = trainable_layers(enc, cfg.finetune_layers)
    if not params or cfg.contrastive_steps == 0:
        return []
    opt = torch.optim.AdamW(params, lr=cfg.encoder_lr, weight_decay=cfg.weight_decay)
    warm = max(1, min(cfg.warmup_steps, cfg.contrastive_steps // 10))
    sched = get_constant_schedule_with_warmup(opt, warm)  # the schedule the GNN's loop uses too (transformers')
    enc.model.train()
    losses = []
    for step in range(cfg.contrastive_steps):
        pairs = copurchase_pairs(baskets, cfg.contrastive_batch, rng)
        with autocast(enc.device):
            a = embed(enc, [texts[i] for i in pairs[:, 0]], max_length)
            b = embed(enc, [texts[i] for i in pairs[:, 1]], max_length)
        logits = (a @ b.T).float() / cfg.temperature
        # A pair's partner item may also sit elsewhere in the batch; those are not negatives.
        same = torch.as_tensor(pairs[:, 1][None, :] == pairs[:, 1][:, None], device=logits.device)
        logits = logits.masked_fill(same & ~torch.eye(len(pairs), dtype=torch.bool, device=logits.device), -1e4)
        labels = torch.arange(len(pairs), device=logits.device)
        loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        on_step(step, losses[-1])
    enc.model.eval()
    return losses
