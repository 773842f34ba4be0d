"""`train`: the hybrid model (encoder + GNN + EASE term) in one of three modes, on one code path.

Layout written: RUN/model/<name>/{model-best,model-last}/ (model.safetensors, item_text.safetensors,
config.json, newness.json + newness.png (the new-item offset swept on validation), encoder/ when
fine-tuned), metrics.jsonl, curves.png, summary.json; RUN/model/related.parquet.
Work happens in RUN/model/.<name>.partial/ (checkpoint included) and is renamed into place at the end,
so a killed run leaves nothing that looks complete, and rerunning the same command resumes it.
"""

from __future__ import annotations

import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import polars as pl
import torch
import torch.nn.functional as F

from graphassoc.config import Config
from graphassoc.errors import UsageError
from graphassoc.evaluate.metrics import per_query
from graphassoc.evaluate.leakage import baskets_fingerprint
from graphassoc.evaluate.protocol import (Queries, basket_indices, basket_matrix, concat_queries, evaluate,
                                          history_popularity, leave_one_out, ordered, tiebreak_positions)
from graphassoc.model import checkpoint as ck
from graphassoc.model.calibrate import NewItemCalibration, calibrate_new_items
from graphassoc.model.config import TrainConfig
from graphassoc.model.evidence import Evidence, build_evidence
from graphassoc.model.finetune import autocast, contrastive_finetune, trainable_layers
from graphassoc.model.net import HybridNet, bag, mask_queries
from graphassoc.runs import Run, peak_rss_mb, seed_everything, update_meta, write_json, write_parquet
from graphassoc.text.config import TextConfig
from graphassoc.text.encoder import LoadedEncoder, resolve_model_dir, embed, encode_with, item_embeddings, item_texts, load_encoder

Progress = Callable[[str], None]
StepHook = Callable[[dict[str, Any]], None]
FORMAT = 2  # bump when the saved layout changes incompatibly


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


@dataclass
class Data:
    """The run's items and baskets as index arrays, split into evidence and supervision windows."""

    items: pl.DataFrame
    item_index: dict[str, int]
    texts: list[str]
    context: Any  # basket x item CSR: evidence while training (earlier train baskets)
    supervision: list[np.ndarray]  # later train baskets (targets while training)
    train_all: Any  # CSR of all train baskets: evidence for validation
    context_lists: list[np.ndarray]  # the evidence window's baskets: what encoder fine-tuning may learn from
    valid: Queries
    calibration: Queries  # valid baskets under train.calibration_draws hidden-item draws (new-item offset)
    train_fingerprint: str  # of the train basket ids: compare's leakage check reads it from config.json

    @property
    def n_items(self) -> int:
        return self.items.height


def load_data(run: Run, cfg: Config, seed: int) -> Data:
    items, baskets = run.items(), run.baskets()
    index = {item: i for i, item in enumerate(items["item_id"].to_list())}
    train = ordered(baskets.filter(pl.col("split") == "train"))
    if train.height < 4:
        raise UsageError(f"run directory '{run.path}' has {train.height} train baskets; the model needs more")
    cut = int(round(train.height * (1 - cfg.train.supervise_fraction)))
    context, later = train[:cut], train[cut:]
    vseed = cfg.train.validation_seed if cfg.train.validation_seed is not None else seed
    valid = leave_one_out(baskets, index, "valid", vseed)
    if len(valid) == 0:
        raise UsageError("the run has no validation baskets with >= 2 items, needed for early stopping; "
                         "rebuild it with split.valid_start or split.valid_fraction set")
    return Data(items, index, item_texts(items, cfg.text), basket_matrix(context, index, items.height),
                [b for b in basket_indices(later, index) if len(b) >= 2],
                basket_matrix(train, index, items.height), basket_indices(context, index), valid,
                concat_queries([valid, *(leave_one_out(baskets, index, "valid", vseed + d)
                                         for d in range(1, cfg.train.calibration_draws))]),
                baskets_fingerprint(train["basket_id"].to_list()))


@dataclass
class TrainResult:
    run_dir: Path
    name: str
    mode: str
    best_epoch: int
    best: dict[str, float]
    history: list[dict[str, Any]]
    seconds: float
    device: str
    peak_rss_mb: float
    extra: dict[str, Any] = field(default_factory=dict)

    out_dir: Path | None = None

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "mode": self.mode, "best_epoch": self.best_epoch, "valid": self.best,
                "epochs_run": len(self.history), "seconds": round(self.seconds, 1), "device": self.device,
                "peak_rss_mb": self.peak_rss_mb, **self.extra}

    def save(self, directory: Path) -> None:
        (directory / "metrics.jsonl").write_text("".join(ck.json.dumps(h) + "\n" for h in self.history))
        write_json(directory / "summary.json", self.summary())
        plot_curves(self.history, directory / "curves.png")


def plot_curves(history: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(9, 3.2))
    epochs = [h["epoch"] for h in history]
    ax[0].plot(epochs, [h["loss"] for h in history], marker="o")
    ax[0].set(xlabel="epoch", ylabel="train loss (softmax CE)")
    for key in ("hr@10", "ndcg@10", "mrr"):
        ax[1].plot(epochs, [h[f"valid_{key}"] for h in history], marker="o", label=key)
    ax[1].set(xlabel="epoch", ylabel="validation")
    ax[1].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


class TextFeatures:
    """Item text embeddings for the GNN input: fixed (frozen, two-stage) or partly live (joint)."""

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


def _fingerprint(cfg: Config, data: Data, seed: int) -> dict[str, Any]:
    # Everything that makes a checkpoint (in)compatible with the command being run.
    return {"format": FORMAT, "seed": seed, "n_items": data.n_items, "train": cfg.train.model_dump(mode="json"),
            "text": cfg.text.model_dump(mode="json")}


def _lr_lambda(cfg: TrainConfig, total: int) -> Callable[[int], float]:
    def f(step: int) -> float:
        if step < cfg.warmup_steps:
            return (step + 1) / cfg.warmup_steps
        if cfg.schedule == "constant":
            return 1.0
        frac = (step - cfg.warmup_steps) / max(1, total - cfg.warmup_steps)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, frac)))
    return f


def validate(net: HybridNet, text: torch.Tensor | None, ev: Evidence, data: Data, pos: np.ndarray,
             target: float | None, device: torch.device) -> tuple[dict[str, float], NewItemCalibration]:
    """Set the new-item offset on validation, then leave-one-out metrics on valid baskets at that offset.

    Full catalogue, query items excluded (the compare protocol). `select` is what early stopping
    compares (with whether the offset reached train.new_item_hr): the overall HR@10 of the chosen
    offset over all calibration draws.
    """
    net.eval()
    net.new_offset.zero_()
    with torch.no_grad(), autocast(device):
        h = net.item_vectors(text, ev)

        def score(batch: list[np.ndarray]) -> np.ndarray:
            flat, offsets = bag(batch, device)
            with autocast(device):
                return net.score(h, flat, offsets, ev).float().cpu().numpy()

        cal = calibrate_new_items(score, (~ev.seen).cpu().numpy(), data.calibration, pos, target)
        net.new_offset.fill_(cal.chosen)
        ranking = evaluate(score, data.valid, pos)
    net.train()
    m = per_query(ranking.ranks)
    out = {k: round(float(m[k].mean()), 5) for k in ("hr@10", "ndcg@10", "mrr", "hr@20")}
    never_seen = ~ev.seen.cpu().numpy()[data.valid.target]
    out["hr@10_never_seen"] = round(float(m["hr@10"][never_seen].mean()), 5) if never_seen.any() else None
    k = cal.offsets.index(cal.chosen)
    out.update({"new_item_offset": cal.chosen, "select": cal.hr10[k], "select_never_seen": cal.hr10_never_seen[k],
                "new_item_target_met": cal.target_met})
    return out, cal


def _examples(baskets: list[np.ndarray], per_basket: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    out = []
    for b, items in enumerate(baskets):
        for hidden in rng.choice(len(items), size=min(per_basket, len(items)), replace=False):
            out.append((b, int(hidden)))
    order = rng.permutation(len(out))
    return [out[i] for i in order]


def save_model(directory: Path, net: HybridNet, text: torch.Tensor | None, encoder: LoadedEncoder | None,
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


def _save_checkpoint(work: Path, net: HybridNet, opt: torch.optim.Optimizer, sched: Any, state: dict[str, Any],
                     encoder: LoadedEncoder | None) -> None:
    final = work / "checkpoint"
    tmp = ck.fresh_tmp(final)
    ck.save_tensors(tmp / "net.safetensors", net.state_dict())
    tensors, opt_meta = ck.optimizer_to_flat(opt)
    ck.save_tensors(tmp / "optimizer.safetensors", tensors)
    if encoder is not None:
        ck.save_tensors(tmp / "encoder.safetensors", encoder.model.state_dict())
    ck.save_tensors(tmp / "rng.safetensors", {"torch": torch.get_rng_state()})
    write_json(tmp / "state.json", {**state, "optimizer": opt_meta, "scheduler": sched.state_dict()})
    ck.replace_dir(tmp, final)


def train(run_dir: str | Path, cfg: Config, progress: Progress = lambda _m: None, overwrite: bool = False,
          on_step: StepHook | None = None, model_root: Path | None = None) -> TrainResult:
    """Train one mode of the hybrid model; resume from RUN/model/.<name>.partial/ when a run was interrupted.

    `model_root` (default RUN/model) lets `tune` keep its trials out of the models that compare reads;
    related.parquet and meta.json timings are written only for the default root.
    """
    start = time.perf_counter()
    run = Run(run_dir, "items.parquet", "baskets.parquet", "graph/edges.parquet")
    check_config(cfg)
    t = cfg.train
    device = resolve_device(t.device)
    name = mode_name(t)
    deploy = model_root is None
    model_root = Path(model_root) if model_root is not None else run.path / "model"
    out = model_root / name
    if out.exists() and not overwrite:
        raise UsageError(f"'{out}' already exists; pass --overwrite to retrain it, or --set train.name=OTHER")
    seed = int(cfg.seed if cfg.seed is not None else (run.config.seed or 0))
    seed_everything(seed)
    data = load_data(run, cfg, seed)
    work = model_root / f".{name}.partial"
    fp = _fingerprint(cfg, data, seed)
    state: dict[str, Any] = {"epoch": 0, "step_in_epoch": 0, "global_step": 0, "history": [], "best": None,
                             "best_epoch": 0, "bad_epochs": 0}
    resuming = (work / "checkpoint" / "state.json").is_file()
    if resuming:
        saved = ck.read_json(work / "checkpoint" / "state.json")
        if saved.get("fingerprint") != fp:
            diff = _diff_keys(saved.get("fingerprint") or {}, fp)
            raise UsageError(f"the checkpoint in '{work}' comes from an incompatible config (differs in: {diff}); "
                             f"rerun with the same settings to resume, or delete that directory to start over")
        state.update({k: saved[k] for k in state})
        progress(f"resuming {name} at epoch {state['epoch'] + 1}, step {state['step_in_epoch']}")
    work.mkdir(parents=True, exist_ok=True)

    # --- text features (stage 1 of two-stage runs here) ---
    encoder: LoadedEncoder | None = None
    text: torch.Tensor | None = None
    contrastive_losses: list[float] = []
    if t.use_text:
        if t.mode == "frozen":
            progress("encoding item texts (cached in RUN/text/)")
            text = torch.from_numpy(item_embeddings(run, cfg.text, device))
        elif t.mode == "two-stage":
            enc_dir = work / "encoder"
            if not (enc_dir / "config.json").is_file():
                progress(f"stage 1: contrastive fine-tuning of the encoder ({t.contrastive_steps} steps)")
                encoder = load_encoder(cfg.text, device, fresh=True)
                contrastive_losses = contrastive_finetune(
                    encoder, data.texts, data.context_lists, t, cfg.text.max_length, np.random.default_rng([seed, 7]),
                    on_step=lambda s, loss: on_step and on_step({"phase": "contrastive", "step": s + 1,
                                                                 "steps": t.contrastive_steps, "loss": loss}))
                tmp = ck.fresh_tmp(enc_dir)
                encoder.model.save_pretrained(tmp, safe_serialization=True)
                encoder.tokenizer.save_pretrained(tmp)
                ck.replace_dir(tmp, enc_dir)
            encoder = load_encoder(cfg.text.model_copy(update={"model": str(enc_dir)}), device, fresh=True)
            progress("stage 2: re-encoding item texts with the fine-tuned encoder")
            text = torch.from_numpy(item_embeddings(run, cfg.text.model_copy(update={"model": str(enc_dir)}), device))
        else:  # joint
            encoder = load_encoder(cfg.text, device, fresh=True)
            if resuming and (work / "checkpoint" / "encoder.safetensors").is_file():
                encoder.model.load_state_dict(ck.load_tensors(work / "checkpoint" / "encoder.safetensors", device))
            progress("encoding item texts (joint mode: cache refreshed every %d steps)" % t.refresh_steps)
            text = torch.from_numpy(encode_with(encoder, data.texts, cfg.text.batch_size, cfg.text.max_length))
    if text is not None:
        text = text.to(device)
    feats = TextFeatures(text, encoder if t.mode == "joint" else None, data.texts, cfg.text, t)

    progress("building evidence (EASE term, co-purchase graph) from train baskets")
    text_np = text.float().cpu().numpy() if text is not None else None
    ev_fit = build_evidence(data.context, text_np, t).to(device)
    ev_val = build_evidence(data.train_all, text_np, t).to(device)
    pos = tiebreak_positions(history_popularity(data.train_all))

    torch.manual_seed(seed)
    net = HybridNet(data.n_items, text.shape[1] if text is not None else 1, t).to(device)
    # The blend scalars (alpha, gate, biases, scale) get a 10x rate and no decay: they must move from their
    # starting values within a few hundred steps, and shrinking them to 0 is not a prior we want.
    scalars = [p for n_, p in net.named_parameters() if p.dim() <= 1 and "." not in n_]
    groups = [{"params": [p for p in net.parameters() if all(p is not q for q in scalars)], "lr": t.lr},
              {"params": scalars, "lr": t.lr * 10, "weight_decay": 0.0}]
    if feats.live:
        groups.append({"params": trainable_layers(encoder, t.finetune_layers), "lr": t.encoder_lr})
    opt = (torch.optim.AdamW(groups, weight_decay=t.weight_decay) if t.optimizer == "adamw"
           else torch.optim.SGD(groups, momentum=0.9, weight_decay=t.weight_decay))
    steps_per_epoch = math.ceil(sum(min(t.samples_per_basket, len(b)) for b in data.supervision) / t.batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_lambda(t, steps_per_epoch * t.epochs))
    if resuming:
        cdir = work / "checkpoint"
        net.load_state_dict(ck.load_tensors(cdir / "net.safetensors", device))
        ck.optimizer_from_flat(opt, ck.load_tensors(cdir / "optimizer.safetensors", device), saved["optimizer"])
        sched.load_state_dict(saved["scheduler"])
        torch.set_rng_state(ck.load_tensors(cdir / "rng.safetensors")["torch"])

    def model_meta(epoch: int, metrics: dict[str, float] | None) -> dict[str, Any]:
        return {"format": FORMAT, "name": name, "mode": t.mode, "train": t.model_dump(mode="json"),
                "text": cfg.text.model_dump(mode="json"), "n_items": data.n_items,
                "text_dim": int(text.shape[1]) if text is not None else 0,
                "item_ids_head": data.items["item_id"].head(5).to_list(), "seed": seed, "epoch": epoch,
                "valid": metrics, "fine_tuned_encoder": encoder is not None,
                "train_baskets_fingerprint": data.train_fingerprint}

    saved_encoder = encoder if t.mode in ("two-stage", "joint") else None
    stop = state["bad_epochs"] >= t.patience  # a resumed run that had already stopped early stays stopped
    while state["epoch"] < t.epochs and not stop:
        epoch = state["epoch"]
        rng = np.random.default_rng([seed, epoch])  # per-epoch stream: a resumed epoch replays the same batches
        examples = _examples(data.supervision, t.samples_per_basket, rng)
        if state["step_in_epoch"] == 0:
            torch.manual_seed(seed * 1000 + epoch)
        losses = state.get("epoch_losses", []) if state["step_in_epoch"] else []
        net.train()
        # The offset set on validation is for scoring only: left in, the softmax would learn to cancel it
        # (the new-item bias drifting down, the offset up, epoch after epoch).
        net.new_offset.zero_()
        for step in range(state["step_in_epoch"], steps_per_epoch):
            batch = examples[step * t.batch_size:(step + 1) * t.batch_size]
            if not batch:
                break
            queries = [np.delete(data.supervision[b], h) for b, h in batch]
            target = torch.as_tensor([int(data.supervision[b][h]) for b, h in batch], device=device)
            flat, offsets = bag(queries, device)
            touched = np.unique(np.concatenate([flat.cpu().numpy(), target.cpu().numpy()]))
            with autocast(device):
                h_items = net.item_vectors(feats.for_step(touched, rng), ev_fit)
                logits = mask_queries(net.score(h_items, flat, offsets, ev_fit).float(), flat, offsets)
            loss = F.cross_entropy(logits, target)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for g in groups for p in g["params"]], t.grad_clip)
            opt.step()
            sched.step()
            losses.append(float(loss.detach()))
            state["global_step"] += 1
            state["step_in_epoch"] = step + 1
            if on_step:
                on_step({"phase": "train", "epoch": epoch + 1, "epochs": t.epochs, "step": step + 1,
                         "steps": steps_per_epoch, "loss": float(np.mean(losses[-20:])),
                         "best_hr10": (state["best"] or {}).get("hr@10")})
            if t.checkpoint_steps and state["global_step"] % t.checkpoint_steps == 0 and step + 1 < steps_per_epoch:
                _save_checkpoint(work, net, opt, sched, {**state, "epoch_losses": losses, "fingerprint": fp},
                                 encoder if feats.live else None)
        if feats.live:
            feats.refresh()
        metrics, calibration = validate(net, feats.cache, ev_val, data, pos, t.new_item_hr, device)
        record = {"epoch": epoch + 1, "loss": round(float(np.mean(losses)) if losses else float("nan"), 5),
                  **{f"valid_{k}": v for k, v in metrics.items()}, "lr": sched.get_last_lr()[0],
                  "alpha": round(float(net.log_alpha.detach().exp()), 4), "seconds": round(time.perf_counter() - start, 1)}
        state["history"].append(record)
        progress(f"epoch {epoch + 1}: loss {record['loss']:.4f}, valid HR@10 {metrics['hr@10']:.4f}")
        if on_step:
            on_step({"phase": "epoch", **record})
        save_model(work / "model-last", net, feats.cache, saved_encoder, model_meta(epoch + 1, metrics))
        calibration.save(work / "model-last")
        if state["best"] is None or rank_key(metrics) > rank_key(state["best"]):
            state["best"], state["best_epoch"], state["bad_epochs"] = metrics, epoch + 1, 0
            shutil.rmtree(work / "model-best", ignore_errors=True)
            shutil.copytree(work / "model-last", work / "model-best")
        else:
            state["bad_epochs"] += 1
            stop = state["bad_epochs"] >= t.patience
        state["epoch"], state["step_in_epoch"] = epoch + 1, 0
        _save_checkpoint(work, net, opt, sched, {**state, "epoch_losses": [], "fingerprint": fp},
                         encoder if feats.live else None)

    result = TrainResult(run.path, name, t.mode, state["best_epoch"], state["best"] or {}, state["history"],
                         time.perf_counter() - start, str(device), peak_rss_mb(),
                         {"contrastive_steps": len(contrastive_losses),
                          "contrastive_loss_last": round(float(np.mean(contrastive_losses[-20:])), 4) if contrastive_losses else None,
                          "stopped_early": stop}, out)
    result.save(work)
    shutil.rmtree(work / "checkpoint", ignore_errors=True)
    shutil.rmtree(work / "encoder", ignore_errors=True)  # model-best/encoder holds the fine-tuned weights
    ck.replace_dir(work, out)
    if deploy:
        progress("scoring related items for RUN/model/related.parquet")
        from graphassoc.model.load import load_model

        write_parquet(model_root / "related.parquet", load_model(run.path, name).related(t.related_k))
        update_meta(run.path, timings={f"train:{name}": {"seconds": round(result.seconds, 3), "peak_rss_mb": peak_rss_mb()}})
    return result


def rank_key(metrics: dict[str, Any]) -> tuple[bool, float]:
    """Early stopping's order: an epoch that reaches train.new_item_hr beats one that does not, then HR@10."""
    return bool(metrics.get("new_item_target_met")), float(metrics["select"])


def _diff_keys(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> str:
    keys = []
    for k in sorted(set(a) | set(b)):
        va, vb = a.get(k), b.get(k)
        if isinstance(va, dict) and isinstance(vb, dict):
            sub = _diff_keys(va, vb, f"{prefix}{k}.")
            if sub:
                keys.append(sub)
        elif va != vb:
            keys.append(f"{prefix}{k}")
    return ", ".join(keys)
