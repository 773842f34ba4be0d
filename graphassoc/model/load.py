"""`load_model`: a trained mode as a scorer over the full catalogue, with evidence = train + valid baskets."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import polars as pl
import torch
from safetensors import SafetensorError

from graphassoc.config import Config
from graphassoc.errors import UsageError
from graphassoc.evaluate.protocol import basket_matrix, top_k
from graphassoc.graph.ease_config import EaseConfig
from graphassoc.model import checkpoint as ck
from graphassoc.model.checkpoint import FORMAT, rank_key
from graphassoc.model.cold_items import borrowed_rows, text_neighbours
from graphassoc.model.config import TrainConfig
from graphassoc.model.evidence import Evidence, build_evidence
from graphassoc.model.net import HybridNet, bag
from graphassoc.model.saving import items_fingerprint
from graphassoc.model.validation import score_block_rows
from graphassoc.runs import Run, trained_modes
from graphassoc.text.config import TextConfig
from graphassoc.text.encoder import encode_texts

# At scoring time the model reads every basket before the test cut (the protocol allows train + valid).
DEPLOY_EVIDENCE = ("train", "valid")


class TrainedModel:
    """Scores baskets or free texts against the catalogue (higher = better; callers exclude query items)."""

    def __init__(self, run: Run, directory: Path, meta: dict[str, Any], evidence_splits: Sequence[str]) -> None:
        self.run, self.directory, self.meta = run, directory, meta
        self.train_cfg = TrainConfig.model_validate(meta["train"])
        self.text_cfg = TextConfig.model_validate(meta["text"])
        self.ease_cfg = EaseConfig.model_validate(meta["ease"])
        self.items = run.items()
        if self.items.height != meta["n_items"] or items_fingerprint(self.items["item_id"].to_list()) != meta["items_fingerprint"]:
            raise UsageError(f"the model in '{directory}' was trained on another catalogue ({meta['n_items']} items, "
                             f"this run has {self.items.height}); retrain it with `graphassoc train {run.path} --overwrite`")
        self.net = HybridNet(meta["n_items"], max(meta["text_dim"], 1), self.train_cfg)
        try:
            self.net.load(self._tensors(directory / "model.safetensors"))
        except RuntimeError as err:
            raise UsageError(f"'{directory}/model.safetensors' does not match its config.json "
                             f"({str(err).splitlines()[0]}); retrain with --overwrite") from None
        self.net.eval()
        # Query items without history take their text neighbours' EASE rows (model/cold_items.py); off = the
        # trained scorer alone, whose related list of a new product is the popularity order (bench/bench_related.py).
        self.cold_neighbours = False  # off until training validates with it too: tests/model/test_train.py
        text_file = directory / "item_text.safetensors"
        self.text = self._tensors(text_file)["text"] if text_file.is_file() else None
        if (directory / "encoder" / "config.json").is_file():
            self.text_cfg = self.text_cfg.model_copy(update={"model": str(directory / "encoder")})
        baskets = run.baskets().filter(pl.col("split").is_in(list(evidence_splits)))
        index = {item: i for i, item in enumerate(self.items["item_id"].to_list())}
        x = basket_matrix(baskets, index, self.items.height)
        self.popularity = np.asarray(x.sum(axis=0)).ravel()
        text_np = self.text.numpy() if self.text is not None else None
        self.evidence: Evidence = build_evidence(x, text_np, self.train_cfg, self.ease_cfg,
                                                  self.text_cfg.neighbours)
        with torch.no_grad():
            self.h = self.net.item_vectors(self.text, self.evidence)

    def _tensors(self, path: Path) -> dict[str, torch.Tensor]:
        """A saved tensor file; a truncated or overwritten one is a UsageError (compare skips the model)."""
        try:
            return ck.load_tensors(path)
        except SafetensorError as err:
            raise UsageError(f"'{path}' is truncated or corrupt ({err}); retrain it with "
                             f"{retrain_command(self.run.path, self.directory.parent.name, self.train_cfg.mode)}") from None

    @property
    def n_items(self) -> int:
        return self.items.height

    def item_vectors(self) -> np.ndarray:
        """(n_items, hidden) GNN item vectors on the deployment evidence graph."""
        return self.h.numpy().copy()

    def score_baskets(self, baskets: list[np.ndarray], chunk: int | None = None) -> np.ndarray:
        """(n_queries, n_items) float32 scores; an empty basket scores by popularity/newness alone.
        Callers pass blocks of queries (the protocol chunks); inside, blocks bound the working memory."""
        chunk = chunk or score_block_rows(self.n_items)
        out = np.empty((len(baskets), self.n_items), dtype=np.float32)
        with torch.no_grad():
            for start in range(0, len(baskets), chunk):
                part = [np.asarray(b, dtype=np.int64) for b in baskets[start:start + chunk]]
                empty = [len(b) == 0 for b in part]
                flat, offsets = bag([b if len(b) else np.zeros(1, dtype=np.int64) for b in part], torch.device("cpu"))
                scores = self.net.score(self.h, flat, offsets, self.evidence)
                borrowed = borrowed_rows(self.evidence, flat, offsets, self.train_cfg.text_neighbours) \
                    if self.cold_neighbours else None
                if borrowed is not None:
                    scores = scores + self._ease_scale() * borrowed
                scores[torch.as_tensor(empty)] = self.net.bias(self.evidence)
                out[start:start + len(part)] = scores.numpy()
        return out

    def score_texts(self, texts: list[str]) -> np.ndarray:
        """(n_texts, n_items) scores for free texts (e.g. a new product) used as a one-item query.

        Inductive: the text becomes a new node whose graph context is its nearest catalogue items
        by text; its GNN vector is the query, and its EASE row is the neighbours' rows, weighted.
        """
        if self.text is None:
            raise UsageError(f"model '{self.directory.parent.name}' was trained without text; score texts with a text mode")
        vecs = torch.from_numpy(encode_texts(texts, self.text_cfg))
        neighbours, weights = text_neighbours(vecs, self.text, self.evidence.seen, self.train_cfg.text_neighbours)
        out = np.empty((len(texts), self.n_items), dtype=np.float32)
        n = self.n_items
        with torch.no_grad():
            for row in range(len(texts)):
                # Graph = evidence graph + one node (index n) with edges from its text neighbours.
                text = torch.cat([self.text, vecs[row:row + 1]])
                extra = torch.stack([neighbours[row], torch.full((len(neighbours[row]),), n)])
                ev = Evidence(None, torch.cat([self.evidence.edge_index, extra], 1),
                              torch.cat([self.evidence.log_pop, torch.zeros(1)]),
                              torch.cat([self.evidence.seen, torch.zeros(1, dtype=torch.bool)]))
                h = self.net.item_vectors(text, ev)
                s = self.net.tower(h[n:n + 1], h[:n], self.evidence, None).squeeze(0)
                if self.evidence.ease is not None:
                    rows = torch.from_numpy(self.evidence.ease.rows(neighbours[row].numpy()))
                    s = s + self._ease_scale() * (weights[row] @ rows)
                # The text is a new product: a one-item query that is all new (frac_new = 1, its own similarity
                # is both the max over the query and over the query's new items).
                sim = vecs[row] @ self.text.T
                s = s + self.net.newness(self.net.bias.weights, torch.ones(1), sim, sim, (~self.evidence.seen).float()) \
                    + self.net.bias(self.evidence)
                out[row] = s.numpy()
        return out

    def _ease_scale(self) -> torch.Tensor:
        """alpha * c_j of the EASE term (model/terms.py), applied to borrowed rows as to the query's own."""
        return self.net.ease.log_alpha.exp() * self.net.ease.item_weight(self.evidence)

    def related(self, k: int = 10) -> pl.DataFrame:
        """Top-k related items per catalogue item (the item itself excluded), best first."""
        ids = np.asarray(self.items["item_id"].to_list(), dtype=object)
        rows = []
        for start in range(0, self.n_items, 512):
            idx = list(range(start, min(start + 512, self.n_items)))
            scores = self.score_baskets([np.array([i]) for i in idx])
            scores[np.arange(len(idx)), idx] = -np.inf
            top = top_k(scores, k)
            for r, i in enumerate(idx):
                for rank, j in enumerate(top[r]):
                    rows.append((ids[i], ids[j], float(scores[r, j]), rank + 1))
        return pl.DataFrame(rows, schema={"item_id": pl.Utf8, "related_id": pl.Utf8, "score": pl.Float64, "rank": pl.Int32},
                            orient="row")


def load_model(run_dir: str | Path, mode: str | None = None, which: str = "best",
               evidence: Sequence[str] = DEPLOY_EVIDENCE) -> TrainedModel:
    """The trained `mode` of a run (None: the best on validation), as model-best (or model-last)."""
    run = Run(run_dir, "items.parquet", "baskets.parquet")
    modes = trained_modes(run.path)
    if not modes:
        raise UsageError(f"no trained model in '{run.path / 'model'}'; run `graphassoc train {run.path}` first")
    if mode is None:
        mode = max(modes, key=lambda m: _valid_rank(run.path / "model" / m))
    if mode not in modes:
        raise UsageError(f"no trained mode '{mode}' in '{run.path / 'model'}'; trained: {', '.join(modes)}")
    return from_pretrained(run.path / "model" / mode / f"model-{which}", evidence)


def from_pretrained(directory: str | Path, evidence: Sequence[str] = DEPLOY_EVIDENCE) -> TrainedModel:
    """A saved model directory (RUN/model/<name>/model-best or model-last) on its own: its config.json
    says how it was trained and fingerprints the whole catalogue it was trained on; the evidence
    (EASE weights, graph, popularity) is rebuilt from its run's baskets of the `evidence` splits."""
    directory = Path(directory)
    run = Run(directory.parents[2], "items.parquet", "baskets.parquet")
    config_file = directory / "config.json"
    if not config_file.is_file():
        raise UsageError(f"'{directory}' has no config.json; retrain with `graphassoc train {run.path} "
                         f"--set train.name={directory.parent.name} --overwrite`")
    try:
        meta = ck.read_json(config_file)
    except (ValueError, UnicodeDecodeError) as err:  # truncated or overwritten: not JSON any more
        name = directory.parent.name
        raise UsageError(f"'{config_file}' is corrupt ({err}); retrain it with "
                         f"{retrain_command(run.path, name, name if name in ('frozen', 'two-stage', 'joint') else 'MODE')}") from None
    if meta.get("format") != FORMAT:
        raise UsageError(f"'{directory}' was saved in format {meta.get('format')}, this version reads {FORMAT}; retrain it")
    return TrainedModel(run, directory, meta, evidence)


def retrain_command(run_dir: Path, name: str, mode: str) -> str:
    named = "" if name == mode else f" --set train.name={name}"
    return f"`graphassoc train {run_dir} --mode {mode}{named} --overwrite`"


def _valid_rank(mode_dir: Path) -> tuple[bool, float]:
    """The order early stopping uses (checkpoint.rank_key), read from the mode's summary."""
    try:
        return rank_key(ck.read_json(mode_dir / "summary.json")["valid"])
    except (OSError, KeyError, ValueError, TypeError):
        return False, -1.0
