"""The training loop as small named steps (the shape of spaCy's training loop and PyKEEN's TrainingLoop):

    prepare_text -> build_evidence -> build_optimiser -> resume -> [run_epoch -> validate -> checkpoint]* -> finish

`train` (model/training.py) sets up the run and calls `Trainer.fit`. Work happens in
RUN/model/.<name>.partial/ (checkpoint included) and is renamed into place by `finish`.
"""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from graphassoc.config import Config
from graphassoc.evaluate.protocol import history_popularity, tiebreak_positions
from graphassoc.model import checkpoint as ck
from graphassoc.model.data import Data, examples
from graphassoc.model.distributed import Distributed
from graphassoc.model.evidence import build_evidence
from graphassoc.model.finetune import autocast, trainable_layers
from graphassoc.model.net import HybridNet, bag, mask_queries
from graphassoc.model.results import TrainResult
from graphassoc.model.sampling import CandidateSampler, sampled_logits, use_sampled_softmax
from graphassoc.model.saving import model_meta, save_model
from graphassoc.model.stopper import Stopper
from graphassoc.model.text_features import prepare_text
from graphassoc.model.validation import validate
from graphassoc.runs import Run, peak_rss_mb

Progress = Callable[[str], None]
StepHook = Callable[[dict[str, Any]], None]
# The blend scalars (alpha, gate, biases, scales) learn this many times faster than the rest, without
# decay: they must move from their starting values within a few hundred steps, and shrinking them to 0
# is not a prior we want.
SCALAR_LR_FACTOR = 10.0


class Trainer:
    def __init__(self, run: Run, cfg: Config, data: Data, work: Path, out: Path, seed: int, device: torch.device,
                 fingerprint: dict[str, Any], saved: dict[str, Any] | None, progress: Progress,
                 on_step: StepHook | None) -> None:
        self.run, self.cfg, self.t, self.data = run, cfg, cfg.train, data
        self.work, self.out, self.seed, self.device, self.fingerprint = work, out, seed, device, fingerprint
        self.saved, self.progress, self.on_step = saved, progress, on_step
        self.name = out.name
        self.start = time.perf_counter()
        self.loop = {"epoch": 0, "step_in_epoch": 0, "global_step": 0, "history": [], "epoch_losses": []}
        self.stopper = Stopper(self.t.patience, self.t.min_delta)
        self.dist = Distributed.from_env()  # torchrun: this process's rank (model/distributed.py); else a no-op

    def fit(self) -> TrainResult:
        self.prepare_text()
        self.build_evidence()
        self.build_optimiser()
        self.resume()
        self.dist.start(self.net, self.groups, self.loop)
        while self.loop["epoch"] < self.t.epochs and not self.stopper.should_stop:
            self.run_epoch()
            metrics = self.dist.on_main(self.validate)
            self.checkpoint_epoch(metrics)
        return self.finish()

    # --- steps -------------------------------------------------------------------------------------
    def prepare_text(self) -> None:
        with self.dist.main_first():
            self.feats, self.encoder, self.contrastive_losses = prepare_text(
                self.run, self.cfg, self.data, self.work, self.device, self.seed, self.saved is not None,
                self.progress, self.on_step)
        # The fine-tuned encoder is saved with the model (two-stage, joint); its weights resume with joint.
        self.saved_encoder = self.encoder if self.t.mode in ("two-stage", "joint") else None

    def build_evidence(self) -> None:
        self.progress("building evidence (EASE term, co-purchase graph) from train baskets")
        text = self.feats.cache.float().cpu().numpy() if self.feats.cache is not None else None
        settings = (self.t, self.cfg.ease, self.cfg.text.neighbours)
        self.ev_fit = build_evidence(self.data.context, text, *settings).to(self.device)
        self.ev_val = build_evidence(self.data.train_all, text, *settings).to(self.device)
        self.adj_fit = self.ev_fit.adjacency()
        self.pos = tiebreak_positions(history_popularity(self.data.train_all))
        self.sampler, self.batch_size = None, self.t.batch_size
        if use_sampled_softmax(self.t, self.data.n_items):
            self.batch_size = self.t.sampled_batch_size
            self.sampler = CandidateSampler(self.data.target_counts(), np.expm1(self.ev_fit.log_pop.cpu().numpy()),
                                            self.t.negatives, self.dist.local_batch_size(self.batch_size))
        how = f"sampled ({self.t.negatives} negatives + in-batch, batch {self.batch_size})" if self.sampler else "full"
        self.progress(f"softmax: {how} over {self.data.n_items:,} items")

    def build_optimiser(self) -> None:
        from transformers import get_constant_schedule_with_warmup, get_cosine_schedule_with_warmup

        t = self.t
        torch.manual_seed(self.seed)
        text_dim = self.feats.cache.shape[1] if self.feats.cache is not None else 1
        self.net = HybridNet(self.data.n_items, text_dim, t).to(self.device)
        scalars = self.net.scalars()
        self.groups = [{"params": [p for p in self.net.parameters() if all(p is not q for q in scalars)], "lr": t.lr},
                       {"params": scalars, "lr": t.lr * SCALAR_LR_FACTOR, "weight_decay": 0.0}]
        if self.feats.live:
            self.groups.append({"params": trainable_layers(self.encoder, t.finetune_layers), "lr": t.encoder_lr})
        self.opt = (torch.optim.AdamW(self.groups, weight_decay=t.weight_decay) if t.optimizer == "adamw"
                    else torch.optim.SGD(self.groups, momentum=0.9, weight_decay=t.weight_decay))
        examples_per_epoch = sum(min(t.samples_per_basket, len(b)) for b in self.data.supervision)
        self.steps_per_epoch = math.ceil(min(examples_per_epoch, t.epoch_examples or examples_per_epoch)
                                         / self.batch_size)
        if t.schedule == "cosine":
            self.sched = get_cosine_schedule_with_warmup(self.opt, t.warmup_steps, self.steps_per_epoch * t.epochs)
        else:
            self.sched = get_constant_schedule_with_warmup(self.opt, t.warmup_steps)

    def resume(self) -> None:
        if self.saved is None:
            return
        self.loop.update({k: self.saved[k] for k in self.loop})
        self.stopper.load(self.saved)
        ck.load_training(self.work / "checkpoint", self.net, self.opt, self.sched, self.saved, self.device)
        self.progress(f"resuming {self.name} at epoch {self.loop['epoch'] + 1}, step {self.loop['step_in_epoch']}")

    def run_epoch(self) -> None:
        epoch, loop = self.loop["epoch"], self.loop
        rng = np.random.default_rng([self.seed, epoch])  # per-epoch stream: a resumed epoch replays the same batches
        batches = examples(self.data.supervision, self.t.samples_per_basket, rng)[:self.t.epoch_examples]  # shuffled: a sample
        if loop["step_in_epoch"] == 0:
            torch.manual_seed(self.seed * 1000 + epoch)
            loop["epoch_losses"] = []
        self.net.train()
        # The offset set on validation is for scoring only: left in, the softmax would learn to cancel it
        # (the new-item bias drifting down, the offset up, epoch after epoch). The tower trains every epoch,
        # so each validation decides on it afresh.
        self.net.new_offset.zero_()
        self.net.tower.on.fill_(1.0)
        for step in range(loop["step_in_epoch"], self.steps_per_epoch):
            batch = batches[step * self.batch_size:(step + 1) * self.batch_size]
            if not batch:
                break
            batch = self.dist.shard(batch)
            loss = self.train_step(batch, rng, np.random.default_rng([self.seed, epoch, step]))
            loop["epoch_losses"].append(loss)
            loop["global_step"] += 1
            loop["step_in_epoch"] = step + 1
            if self.on_step:
                self.on_step({"phase": "train", "epoch": epoch + 1, "epochs": self.t.epochs, "step": step + 1,
                              "steps": self.steps_per_epoch, "loss": float(np.mean(loop["epoch_losses"][-20:])),
                              "best_hr10": (self.stopper.best or {}).get("hr@10")})
            if self.t.checkpoint_steps and loop["global_step"] % self.t.checkpoint_steps == 0 \
                    and step + 1 < self.steps_per_epoch:
                self.save_checkpoint()
        if self.feats.live:
            self.feats.refresh()

    def train_step(self, batch: list[tuple[int, int]], rng: np.random.Generator,
                   step_rng: np.random.Generator) -> float:
        """One optimiser step on leave-one-out examples: softmax over the catalogue, or over sampled candidates."""
        sup = self.data.supervision
        queries = [np.delete(sup[b], h) for b, h in batch]
        target_np = np.array([int(sup[b][h]) for b, h in batch], dtype=np.int64)
        flat, offsets = bag(queries, self.device)
        cols = log_inclusion = None
        labels = torch.as_tensor(target_np, device=self.device)
        if self.sampler is not None:
            cols_np, log_inclusion, labels_np = self.sampler.candidates(target_np, step_rng)
            cols, labels = torch.as_tensor(cols_np, device=self.device), torch.as_tensor(labels_np, device=self.device)
        touched = np.unique(np.concatenate([flat.cpu().numpy(), target_np]))
        with autocast(self.device):
            h = self.net.item_vectors(self.feats.for_step(touched, rng), self.ev_fit, self.adj_fit)
            logits = self.net.score(h, flat, offsets, self.ev_fit, cols).float()
        if log_inclusion is not None:
            logits = sampled_logits(logits, log_inclusion)
        loss = F.cross_entropy(mask_queries(logits, flat, offsets, cols), labels)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        loss = self.dist.average_gradients(self.groups, loss)
        torch.nn.utils.clip_grad_norm_([p for g in self.groups for p in g["params"]], self.t.grad_clip)
        self.opt.step()
        self.sched.step()
        return float(loss.detach())

    def validate(self) -> dict[str, Any]:
        metrics, self.calibration = validate(self.net, self.feats.cache, self.ev_val, self.data, self.pos,
                                             self.t.new_item_hr, self.device)
        losses = self.loop["epoch_losses"]
        record = {"epoch": self.loop["epoch"] + 1, "loss": round(float(np.mean(losses)) if losses else float("nan"), 5),
                  **{f"valid_{k}": v for k, v in metrics.items()}, "lr": self.sched.get_last_lr()[0],
                  "alpha": round(float(self.net.ease.log_alpha.detach().exp()), 4),
                  "seconds": round(time.perf_counter() - self.start, 1)}
        self.loop["history"].append(record)
        self.progress(f"epoch {record['epoch']}: loss {record['loss']:.4f}, valid HR@10 {metrics['hr@10']:.4f}")
        if self.on_step:
            self.on_step({"phase": "epoch", **record})
        return metrics

    def checkpoint_epoch(self, metrics: dict[str, Any]) -> None:
        """model-last always, model-best when the stopper says so, then the resumable checkpoint."""
        epoch = self.loop["epoch"] + 1
        last = self.work / "model-last"
        if self.dist.is_main:
            save_model(last, self.net, self.feats.cache, self.saved_encoder,
                       model_meta(self.cfg, self.data, self.name, self.seed, self.feats.cache, self.encoder, epoch, metrics))
            self.calibration.save(last)
        if self.stopper.report(epoch, metrics) and self.dist.is_main:
            shutil.rmtree(self.work / "model-best", ignore_errors=True)
            shutil.copytree(last, self.work / "model-best")
        self.loop["epoch"], self.loop["step_in_epoch"], self.loop["epoch_losses"] = epoch, 0, []
        self.save_checkpoint()

    def save_checkpoint(self) -> None:
        if not self.dist.is_main:
            return
        state = {**self.loop, **self.stopper.state(), "fingerprint": self.fingerprint}
        ck.save_training(self.work / "checkpoint", self.net, self.opt, self.sched, state,
                         self.encoder.model if self.feats.live else None)

    def finish(self) -> TrainResult:
        losses = self.contrastive_losses
        result = TrainResult(self.run.path, self.name, self.t.mode, self.stopper.best_epoch, self.stopper.best or {},
                             self.loop["history"], time.perf_counter() - self.start, str(self.device), peak_rss_mb(),
                             {"contrastive_steps": len(losses),
                              "contrastive_loss_last": round(float(np.mean(losses[-20:])), 4) if losses else None,
                              "stopped_early": self.stopper.should_stop,
                              "softmax": "sampled" if self.sampler is not None else "full"}, self.out)
        if not self.dist.is_main:
            return result
        result.save(self.work)
        shutil.rmtree(self.work / "checkpoint", ignore_errors=True)
        shutil.rmtree(self.work / "encoder", ignore_errors=True)  # model-best/encoder holds the fine-tuned weights
        ck.replace_dir(self.work, self.out)
        return result
