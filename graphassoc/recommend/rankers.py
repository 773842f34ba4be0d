"""Rankers behind one interface: `fit(ctx)` then `score(queries) -> (n, n_items) float32`.

Every ranker scores the full catalogue, new products included; the caller excludes query items.
Fitted on a RankContext (graphassoc/recommend/context.py), which says which baskets are evidence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import polars as pl
import scipy.sparse as sp

from graphassoc.errors import DataError, GraphassocError
from graphassoc.evaluate.metrics import per_query
from graphassoc.evaluate.protocol import evaluate, exclude_query_items, guard_block, query_matrix, rank_of_targets
from graphassoc.graph.ease import fit_ease_gram, gram, sparse_ease_path, use_dense
from graphassoc.graph.ease_config import EaseConfig
from graphassoc.memory import check_fits
from graphassoc.recommend.context import EVIDENCE, RankContext
from graphassoc.registry import Registry


class RankerUnavailable(GraphassocError):
    """A ranker cannot run on this run directory (e.g. no trained model); it is skipped, not fatal."""


class Ranker:
    """Base class. Subclasses set `name`, implement fit and _score; `notes` carries what to report."""

    name = "ranker"
    baseline = True  # a baseline the model is compared against (paired differences)

    def __init__(self) -> None:
        self.notes: dict[str, Any] = {}
        self.n_items = 0

    def fit(self, ctx: RankContext) -> "Ranker":
        raise NotImplementedError

    def _score(self, queries: Sequence[np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def score(self, queries: Sequence[np.ndarray], chunk: int = 1024) -> np.ndarray:
        """Scores of every catalogue item for every query, computed `chunk` queries at a time; callers
        scoring many queries pass them in blocks (evaluate, recommend_batch): the result is queries x items."""
        guard_block(len(queries), self.n_items)
        out = np.empty((len(queries), self.n_items), dtype=np.float32)
        for start in range(0, len(queries), chunk):
            out[start:start + chunk] = self._score([np.asarray(q, dtype=np.int64) for q in queries[start:start + chunk]])
        return out


RANKERS: Registry[type[Ranker]] = Registry("ranker")


def validation_score(ranker: Ranker, ctx: RankContext) -> float:
    """The tuning metric of a ranker fitted on ctx (a validation context) over its queries."""
    queries = ctx.queries()
    if len(queries) == 0:
        return 0.0
    ranking = evaluate(ranker.score, queries, ctx.tiebreak, k=10, chunk=ctx.eval_cfg.chunk_size)
    return float(per_query(ranking.ranks)[ctx.eval_cfg.tune_metric].mean())


@RANKERS.register("popularity", "most bought items first (evidence-window basket count)")
class PopularityRanker(Ranker):
    name = "popularity"

    def fit(self, ctx: RankContext) -> "PopularityRanker":
        self.n_items = ctx.n_items
        self.pop = ctx.popularity.astype(np.float32)
        return self

    def _score(self, queries: Sequence[np.ndarray]) -> np.ndarray:
        return np.tile(self.pop, (len(queries), 1))


def context_gram(ctx: RankContext) -> sp.csr_matrix:
    """The evidence window's co-occurrence counts (sparse float32, diagonal = popularity), computed
    once per context (several rankers use it)."""
    key = f"gram:{ctx.phase}"
    if key not in ctx.cache:
        ctx.cache[key] = gram(ctx.evidence)
    return ctx.cache[key]


def densify(scores: np.ndarray | sp.spmatrix) -> np.ndarray:
    """A block of scores as a dense float32 array (sparse weights give a sparse product)."""
    return np.asarray(scores.toarray() if sp.issparse(scores) else scores, dtype=np.float32)


@RANKERS.register("cooccurrence", "sum over query items q of P(j | q) from evidence co-occurrence counts")
class CooccurrenceRanker(Ranker):
    name = "cooccurrence"

    def fit(self, ctx: RankContext) -> "CooccurrenceRanker":
        self.n_items = ctx.n_items
        counts = context_gram(ctx)
        pop = counts.diagonal()
        off = sp.csr_matrix(counts - sp.diags(pop), dtype=np.float32)
        off.eliminate_zeros()
        # Row q holds P(j | q) = count(q, j) / count(q) (sparse); items never seen have an empty row.
        off.data = off.data / np.repeat(np.maximum(pop, 1.0).astype(np.float32), np.diff(off.indptr))
        # Dense while EASE would be dense (a sparse x dense product is ~3x faster than sparse x sparse).
        self.cond = off.toarray() if use_dense(self.n_items, ease_config(ctx)) else off
        return self

    def _score(self, queries: Sequence[np.ndarray]) -> np.ndarray:
        return densify(query_matrix(queries, self.n_items) @ self.cond)


def mine_rules(baskets: pl.DataFrame, ctx: RankContext) -> pl.DataFrame:
    """Rules over the evidence baskets with the comparison's settings, through the mining stage."""
    from graphassoc.mining.config import MiningConfig

    cfg = ctx.eval_cfg
    mining_cfg = MiningConfig(min_support=cfg.rules_min_support, min_confidence=cfg.rules_min_confidence,
                              max_len=cfg.rules_max_len)
    try:
        from graphassoc.mining import mine
    except ImportError:  # the mining stage is not installed: mlxtend, the reference, directly
        return _mine_with_mlxtend(baskets["items"].to_list(), mining_cfg)
    return mine(baskets["items"], mining_cfg).rules


def _mine_with_mlxtend(transactions: list[list[str]], cfg: Any) -> pl.DataFrame:
    import pandas as pd
    from mlxtend.frequent_patterns import association_rules, fpgrowth
    from mlxtend.preprocessing import TransactionEncoder

    enc = TransactionEncoder()
    onehot = enc.fit(transactions).transform(transactions, sparse=True)
    frame = pd.DataFrame.sparse.from_spmatrix(onehot, columns=enc.columns_)
    itemsets = fpgrowth(frame, min_support=cfg.min_support, use_colnames=True, max_len=cfg.max_len)
    if itemsets.empty:
        return pl.DataFrame({"antecedents": [], "consequents": [], "confidence": [], "lift": []},
                            schema={"antecedents": pl.List(pl.Utf8), "consequents": pl.List(pl.Utf8),
                                    "confidence": pl.Float64, "lift": pl.Float64})
    rules = association_rules(itemsets, metric="confidence", min_threshold=cfg.min_confidence)
    return pl.DataFrame({"antecedents": [sorted(a) for a in rules["antecedents"]],
                         "consequents": [sorted(c) for c in rules["consequents"]],
                         "confidence": rules["confidence"].to_numpy(), "lift": rules["lift"].to_numpy()},
                        schema={"antecedents": pl.List(pl.Utf8), "consequents": pl.List(pl.Utf8),
                                "confidence": pl.Float64, "lift": pl.Float64})


def _incidence(lists: list[list[str]], index: dict[str, int], n_items: int) -> sp.csr_matrix:
    rows = [[index[i] for i in items if i in index] for items in lists]
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r) for r in rows])
    indices = np.asarray([i for r in rows for i in r], dtype=np.int64)
    return sp.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(len(rows), n_items))


@RANKERS.register("rules", "consequents of rules whose antecedent lies in the query (max confidence), popularity fallback")
class RulesRanker(Ranker):
    name = "rules"

    def fit(self, ctx: RankContext) -> "RulesRanker":
        self.n_items = ctx.n_items
        rules = mine_rules(ctx.evidence_baskets, ctx)
        known = set(ctx.item_index)
        self.rules = rules.filter(rules["antecedents"].list.eval(pl.element().is_in(list(known))).list.all()
                                  & rules["consequents"].list.eval(pl.element().is_in(list(known))).list.all())
        rules = self.rules
        self.order_by = ctx.eval_cfg.rules_order
        self.antecedents = _incidence(rules["antecedents"].to_list(), ctx.item_index, ctx.n_items)
        self.consequents = _incidence(rules["consequents"].to_list(), ctx.item_index, ctx.n_items)
        self.ant_size = np.asarray(self.antecedents.sum(axis=1)).ravel()
        self.value = rules[self.order_by].to_numpy().astype(np.float32)
        # The fallback sits below every rule score (rule values are > 0) and orders by popularity.
        pop = ctx.popularity.astype(np.float64)
        self.fallback = (1e-6 * pop / max(pop.max(), 1.0)).astype(np.float32)
        self.notes = {"rules": int(rules.height), "order_by": self.order_by,
                      "min_support": ctx.eval_cfg.rules_min_support,
                      "min_confidence": ctx.eval_cfg.rules_min_confidence, "max_len": ctx.eval_cfg.rules_max_len}
        return self

    def rule_scores(self, queries: Sequence[np.ndarray]) -> np.ndarray:
        """Best rule value per (query, item); 0 where no applicable rule names the item."""
        out = np.zeros((len(queries), self.n_items), dtype=np.float32)
        if len(self.value) == 0 or len(queries) == 0:
            return out
        inside = (query_matrix(queries, self.n_items) @ self.antecedents.T).tocoo()
        applies = inside.data == self.ant_size[inside.col]  # every antecedent item is in the query
        q, r = inside.row[applies], inside.col[applies]
        cons = self.consequents
        n_cons = np.diff(cons.indptr)[r]
        q_rep = np.repeat(q, n_cons)
        starts = np.repeat(cons.indptr[r], n_cons)
        offsets = np.arange(len(q_rep)) - np.repeat(np.cumsum(n_cons) - n_cons, n_cons)
        items = cons.indices[starts + offsets]
        np.maximum.at(out, (q_rep, items), np.repeat(self.value[r], n_cons))
        return out

    def answered(self, queries: Sequence[np.ndarray]) -> np.ndarray:
        """Per query: does some applicable rule name an item outside the query?"""
        out = np.zeros(len(queries), dtype=bool)
        for start in range(0, len(queries), 1024):
            part = [np.asarray(q, dtype=np.int64) for q in queries[start:start + 1024]]
            ruled = exclude_query_items(self.rule_scores(part), part)
            out[start:start + len(part)] = ruled.max(axis=1) > 0
        return out

    def _score(self, queries: Sequence[np.ndarray]) -> np.ndarray:
        return self.rule_scores(queries) + self.fallback[None, :]


@RANKERS.register("ease", "EASE linear autoencoder (closed form), lambda tuned on validation")
class EaseRanker(Ranker):
    name = "ease"

    def fit(self, ctx: RankContext) -> "EaseRanker":
        self.n_items = ctx.n_items
        lam = self._tuned_lambda(ctx)
        key = f"ease:{ctx.phase}:{lam}"
        if key not in ctx.cache:  # the hybrid refits EASE on the same context: reuse the weights
            ctx.cache[key] = fit_ease_gram(context_gram(ctx), lam, ease_config(ctx))
        self.weights = ctx.cache[key]
        self.notes = {"lambda": lam, "method": "sparse" if sp.issparse(self.weights) else "dense",
                      **ctx.cache.get("ease:grid_notes", {})}
        return self

    def _tuned_lambda(self, ctx: RankContext) -> float:
        grid = ctx.eval_cfg.ease_lambdas
        if len(grid) == 1:
            return float(grid[0])
        if "ease:lambda" not in ctx.cache:
            valid = ctx.validation()
            cfg, g = ease_config(ctx), context_gram(valid)
            if use_dense(valid.n_items, cfg):  # one exact fit per lambda, one at a time in memory
                fits = (fit_ease_gram(g, lam, cfg) for lam in grid)
            else:  # one neighbourhood gather, one batched solve per lambda
                fits = iter(sparse_ease_path(g, list(grid), neighbours=cfg.neighbours))
            scores = {}
            for lam, weights in zip(grid, fits):
                probe = EaseRanker()
                probe.n_items, probe.weights = valid.n_items, weights
                scores[lam] = validation_score(probe, valid)
            ctx.cache["ease:lambda"] = float(max(scores, key=lambda k: scores[k]))
            ctx.cache["ease:grid_notes"] = {f"valid_{ctx.eval_cfg.tune_metric}": {str(k): round(v, 4) for k, v in scores.items()}}
        return ctx.cache["ease:lambda"]

    def _score(self, queries: Sequence[np.ndarray]) -> np.ndarray:
        return densify(query_matrix(queries, self.n_items) @ self.weights)


def ease_config(ctx: RankContext) -> EaseConfig:
    """The run's EASE settings (dense / sparse by size); defaults for a context without a config."""
    return getattr(ctx.config, "ease", None) or EaseConfig()


def item_embeddings(ctx: RankContext) -> np.ndarray:
    """L2-normalised frozen encoder embeddings of every item, from the text stage (cached in RUN/text/)."""
    if "text:embeddings" not in ctx.cache:
        try:
            from graphassoc.text.encoder import item_embeddings as encode_items
        except ImportError as err:
            raise RankerUnavailable(f"the text encoder is not available ({err})") from None
        text_cfg = getattr(ctx.config, "text", None)
        vectors = np.asarray(encode_items(ctx.run_dir, text_cfg, device=ctx.eval_cfg.device), dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        ctx.cache["text:embeddings"] = vectors
    return ctx.cache["text:embeddings"]


@RANKERS.register("text", "frozen text encoder: max cosine similarity to any query item")
class TextRanker(Ranker):
    """score_j = max over query items q of cos(q, j).

    Up to evaluate.text_exact_max_items every cosine is computed once (an n x n float32 matrix:
    60 MB for 3,900 items); above, each item keeps its `text_neighbours` nearest items
    (text/neighbours.py: exact top-k, HNSW at size) and an item in no query item's list scores -1,
    below every listed one: the top of the ranking is exact as long as the lists are, the tail is
    tied and falls back to the protocol's tie-break.
    """

    name = "text"

    def fit(self, ctx: RankContext) -> "TextRanker":
        self.n_items = ctx.n_items
        emb = item_embeddings(ctx)
        cfg = ctx.eval_cfg
        if self.n_items <= cfg.text_exact_max_items:
            check_fits(4.0 * self.n_items ** 2, f"the text ranker's {self.n_items:,} x {self.n_items:,} cosines",
                       "lower --set evaluate.text_exact_max_items (above it, nearest-neighbour lists)")
            self.similarity, self.lists = emb @ emb.T, None
        else:
            key = f"text:lists:{cfg.text_neighbours}"
            if key not in ctx.cache:
                ctx.cache[key] = neighbour_lists(emb, cfg.text_neighbours, text_neighbours_config(ctx))
            self.similarity, self.lists = None, ctx.cache[key]
        self.notes = {"search": "exact" if self.lists is None else f"top-{cfg.text_neighbours} lists"}
        return self

    def _score(self, queries: Sequence[np.ndarray]) -> np.ndarray:
        out = np.full((len(queries), self.n_items), -1.0, dtype=np.float32)
        if self.lists is None:
            for i, query in enumerate(queries):
                if len(query):
                    out[i] = self.similarity[query].max(axis=0)
            return out
        if sum(len(q) for q in queries):
            rows = np.repeat(np.arange(len(queries)), [len(q) for q in queries])
            part = self.lists[np.concatenate(list(queries)).astype(np.int64)].tocoo()
            np.maximum.at(out, (rows[part.row], part.col), part.data)
        return out


def neighbour_lists(emb: np.ndarray, k: int, cfg: Any = None) -> sp.csr_matrix:
    """Each item's k nearest items by cosine (itself included), as a sparse n x n similarity matrix."""
    from graphassoc.text.neighbours import nearest

    idx, sims = nearest(emb, emb, k, cfg=cfg)
    keep = idx >= 0
    rows = np.repeat(np.arange(len(emb)), keep.sum(axis=1))
    return sp.csr_matrix((sims[keep], (rows, idx[keep])), shape=(len(emb), len(emb)), dtype=np.float32)


def text_neighbours_config(ctx: RankContext) -> Any:
    return getattr(getattr(ctx.config, "text", None), "neighbours", None)


def model_modes(run_dir: Path) -> list[str]:
    """Trained modes: subdirectories of RUN/model/ (e.g. frozen, two-stage, joint, no-text)."""
    root = Path(run_dir) / "model"
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) if root.is_dir() else []


class ModelRanker(Ranker):
    """A trained model of the train stage, loaded from RUN/model/<mode>/."""

    baseline = False
    mode = ""

    def __init__(self, mode: str | None = None) -> None:
        super().__init__()
        if mode is not None:
            self.mode = mode
        self.name = f"model-{self.mode}"

    @property
    def train_args(self) -> str:
        return f"--mode {self.mode}"

    def fit(self, ctx: RankContext) -> "ModelRanker":
        self.n_items = ctx.n_items
        if self.mode not in model_modes(ctx.run_dir):
            raise RankerUnavailable(f"no trained model '{self.mode}' in {ctx.run_dir / 'model'}; "
                                    f"train it with `graphassoc train {ctx.run_dir} {self.train_args}`")
        try:
            from graphassoc.model import load_model
        except ImportError as err:
            raise RankerUnavailable(f"the model stage is not available ({err})") from None
        # The model's evidence (its EASE term, its message-passing graph) follows the protocol of the
        # phase: train only while tuning on valid queries, train + valid for test queries.
        key = f"model:{self.mode}:{ctx.phase}"
        if key not in ctx.cache:
            try:
                ctx.cache[key] = load_model(ctx.run_dir, self.mode, evidence=EVIDENCE[ctx.phase])
            except GraphassocError as err:  # e.g. saved by an older version: skip it, compare the rest
                raise RankerUnavailable(f"model '{self.mode}' cannot be loaded: {err}") from None
        self.model = ctx.cache[key]
        return self

    def _score(self, queries: Sequence[np.ndarray]) -> np.ndarray:
        scores = np.asarray(self.model.score_baskets(list(queries)), dtype=np.float32)
        if scores.shape != (len(queries), self.n_items):
            raise DataError(f"model '{self.mode}' returned scores of shape {scores.shape} for {len(queries)} baskets "
                            f"and {self.n_items} catalogue items; retrain it on this run directory")
        return scores


@RANKERS.register("gnn-no-text", "the GNN trained on id embeddings only (mode no-text), a baseline")
class GnnNoTextRanker(ModelRanker):
    mode = "no-text"
    baseline = True

    def __init__(self) -> None:
        super().__init__()
        self.name = "gnn-no-text"

    @property
    def train_args(self) -> str:
        return "--set train.use_text=false"


@RANKERS.register("model", "the hybrid text+GNN model, one ranker per trained mode in RUN/model/")
class AnyModelRanker(ModelRanker):
    """Placeholder for `model`: compare expands it to model-<mode> for every trained mode."""


def zscore(scores: np.ndarray) -> np.ndarray:
    """Per-query standardisation, so two rankers' scores can be mixed on one scale."""
    if not np.isfinite(scores).all():  # -inf / NaN from a ranker would poison the mean: floor them
        finite = np.where(np.isfinite(scores), scores, np.inf).min(axis=1, keepdims=True)
        scores = np.where(np.isfinite(scores), scores, np.where(np.isfinite(finite), finite, 0.0))
    mean = scores.mean(axis=1, keepdims=True)
    std = scores.std(axis=1, keepdims=True)
    return (scores - mean) / np.maximum(std, 1e-9)


HYBRID_TAUS = (0.0, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, float("inf"))
HYBRID_BETAS = (0.25, 0.5, 1.0, 2.0, 4.0)


def gate(popularity: np.ndarray, tau: float) -> np.ndarray:
    """Trust in the evidence per item: pop / (pop + tau); tau 0 trusts any history, tau inf none."""
    pop = np.asarray(popularity, dtype=np.float32)
    if tau == 0:
        return (pop > 0).astype(np.float32)
    if not np.isfinite(tau):
        return np.zeros_like(pop)
    return pop / (pop + np.float32(tau))


@RANKERS.register("hybrid", "co-occurrence evidence (EASE) where an item has history, the model where it has little; gate tuned on validation")
class HybridRanker(Ranker):
    """score_j = a_j * z(evidence)_j + (1 - a_j) * beta * z(model)_j with a_j = pop_j / (pop_j + tau).

    pop_j is item j's evidence popularity: an item with a long history is judged by its
    co-occurrences, a new product (pop 0) by the model alone. tau and beta are chosen on the
    validation queries (evidence = train), never on test.
    """

    name = "hybrid"
    baseline = False

    def __init__(self, model_factory: Callable[[], Ranker] | None = None) -> None:
        super().__init__()
        self.model_factory = model_factory  # None: every trained mode and frozen text compete on validation

    def _evidence(self, ctx: RankContext) -> Ranker:
        return {"ease": EaseRanker, "cooccurrence": CooccurrenceRanker}[ctx.eval_cfg.hybrid_evidence]().fit(ctx)

    def _candidates(self, ctx: RankContext) -> list[Callable[[], Ranker]]:
        if self.model_factory is not None:
            return [self.model_factory]
        wanted = ctx.eval_cfg.hybrid_model
        if wanted != "auto":
            return [lambda: pick_model_ranker(ctx)]
        modes = [m for m in model_modes(ctx.run_dir) if m != GnnNoTextRanker.mode]
        return [TextRanker, *[(lambda m=m: ModelRanker(m)) for m in modes]]

    def fit(self, ctx: RankContext) -> "HybridRanker":
        self.n_items = ctx.n_items
        if "hybrid:gate" not in ctx.cache:
            ctx.cache["hybrid:gate"] = self._tune(ctx.validation())
        make, self.tau, self.beta, grid_best, tried = ctx.cache["hybrid:gate"]
        self.evidence, self.model = self._evidence(ctx), make().fit(ctx)
        self.alpha = gate(ctx.popularity, self.tau)
        self.notes = {"tau": self.tau, "beta": self.beta, "evidence": self.evidence.name, "model": self.model.name,
                      f"valid_{ctx.eval_cfg.tune_metric}": round(grid_best, 4), "model_sides_tried": tried}
        return self

    def _tune(self, valid: RankContext) -> tuple[Callable[[], Ranker], float, float, float, dict[str, float]]:
        """Pick the model side, tau and beta with the best validation metric (evidence = train)."""
        queries = valid.queries()
        candidates = self._candidates(valid)
        if len(queries) == 0:
            return candidates[0], 0.0, 1.0, 0.0, {}
        evidence = self._evidence(valid)
        best: tuple[float, Callable[[], Ranker], float, float] = (-1.0, candidates[0], 0.0, 1.0)
        tried: dict[str, float] = {}
        for make in candidates:
            try:
                model = make().fit(valid)
            except RankerUnavailable:
                continue
            for (tau, beta), value in self._grid(evidence, model, valid).items():
                tried[model.name] = max(tried.get(model.name, -1.0), round(value, 4))
                if value > best[0]:
                    best = (value, make, tau, beta)
        if not tried:
            raise RankerUnavailable("no model side for the hybrid could be fitted (no text encoder, no trained model)")
        return best[1], best[2], best[3], best[0], tried

    @staticmethod
    def _grid(evidence: Ranker, model: Ranker, valid: RankContext) -> dict[tuple[float, float], float]:
        """Validation metric of every (tau, beta), scoring the queries in blocks (never queries x items at once)."""
        queries, metric, chunk = valid.queries(), valid.eval_cfg.tune_metric, valid.eval_cfg.chunk_size
        alphas = {tau: gate(valid.popularity, tau)[None, :] for tau in HYBRID_TAUS}
        sums = {(tau, beta): 0.0 for tau in HYBRID_TAUS for beta in HYBRID_BETAS}
        for start in range(0, len(queries), chunk):
            batch, target = queries.query[start:start + chunk], queries.target[start:start + chunk]
            z_e, z_m = zscore(evidence.score(batch)), zscore(model.score(batch))
            for tau, beta in sums:
                alpha = alphas[tau]
                mixed = exclude_query_items(alpha * z_e + (1 - alpha) * beta * z_m, batch)
                sums[(tau, beta)] += float(per_query(rank_of_targets(mixed, target, valid.tiebreak))[metric].sum())
        return {key: total / len(queries) for key, total in sums.items()}

    def _score(self, queries: Sequence[np.ndarray]) -> np.ndarray:
        z_e, z_m = zscore(self.evidence.score(queries)), zscore(self.model.score(queries))
        # A query without evidence (only products without history: a flat evidence row) is the model's alone.
        alpha = np.where(np.ptp(z_e, axis=1, keepdims=True) > 0, self.alpha[None, :], np.float32(0))
        return (alpha * z_e + (1 - alpha) * self.beta * z_m).astype(np.float32)


def pick_model_ranker(ctx: RankContext) -> Ranker:
    """The hybrid's model side: the named mode, or the best trained mode on validation, else frozen text."""
    wanted = ctx.eval_cfg.hybrid_model
    if wanted == "text":
        return TextRanker()
    modes = [m for m in model_modes(ctx.run_dir) if m != GnnNoTextRanker.mode]
    if wanted != "auto":
        if wanted not in modes:
            raise RankerUnavailable(f"hybrid_model '{wanted}' is not trained; trained modes: {', '.join(modes) or 'none'}")
        return ModelRanker(wanted)
    key = "hybrid:model_choice"
    if key not in ctx.cache:
        best, choice = -1.0, "text"
        valid = ctx.validation()
        failures = []
        for mode in modes:
            try:
                value = validation_score(ModelRanker(mode).fit(valid), valid)
            except RankerUnavailable as err:
                failures.append(str(err))
                continue
            if value > best:
                best, choice = value, mode
        if modes and len(failures) == len(modes):  # trained, but none loads: say so, never answer with text instead
            raise RankerUnavailable(failures[0])
        ctx.cache[key] = choice
    choice = ctx.cache[key]
    return TextRanker() if choice == "text" else ModelRanker(choice)
