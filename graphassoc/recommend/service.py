"""Recommendations for people and programs: one loaded run answers item, basket, text and batch queries.

`Recommender.load(run_dir, method)` reads the run and fits the ranker ONCE; every query after that
is a ranker call on already-built matrices. The evidence window is the evaluation protocol's test
phase (GUIDE.md section 4): co-occurrence evidence from every basket before the test cut (train +
valid), tuned values from validation, so a batch of test-split queries is scored without leakage
and exactly as `graphassoc compare` scores them.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from graphassoc.errors import DataError, GraphassocError, UsageError
from graphassoc.evaluate.protocol import exclude_query_items, top_k
from graphassoc.rankers.base import RANKERS, Ranker, RankerUnavailable
from graphassoc.rankers.context import RankContext
from graphassoc.rankers.model import ModelRanker, pick_model_ranker, text_modes
from graphassoc.rankers.text import item_embeddings
from graphassoc.recommend.config import RecommendConfig
from graphassoc.recommend.evidence import Evidence, Explainer, RuleIndex, copurchase_matrix
from graphassoc.runs import Run, atomic_file, first_seed, require_run

TUNED_FILE = Path("recommend") / "tuned.json"
RANKERS_DIR = Path(__file__).resolve().parent.parent / "rankers"


@dataclass
class Recommendation:
    rank: int
    item_id: str
    title: str
    score: float
    evidence: Evidence | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rank": self.rank, "item_id": self.item_id, "title": self.title, "score": self.score}
        if self.evidence is not None:
            out["evidence"] = self.evidence.to_dict()
        return out


@dataclass
class RecommendResult:
    run_dir: Path
    method: str
    query: dict[str, Any]  # {"item": id} | {"basket": [ids]} | {"text": "..."}
    items: list[Recommendation]

    def to_dict(self) -> dict[str, Any]:
        return {"run": str(self.run_dir), "method": self.method, "query": self.query,
                "items": [r.to_dict() for r in self.items]}

    def save(self, path: Path) -> None:
        from graphassoc.runs import write_json

        write_json(Path(path), self.to_dict())


@dataclass
class BatchSummary:
    queries: int = 0
    answered: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, message)
    seconds: float = 0.0
    out: Path | None = None

    @property
    def per_second(self) -> float:
        return self.queries / self.seconds if self.seconds > 0 else float("inf")


def default_method(run_dir: Path) -> str:
    """hybrid when a model is trained (it gates EASE evidence against the model), else EASE.

    EASE is the strongest baseline on the reference data (HR@10 0.266 vs 0.179 for rules and 0.113
    for plain co-occurrence, ../shared/data/README.md) and needs neither the encoder nor a model,
    so a run straight out of build-graph answers quickly.
    """
    return "hybrid" if text_modes(run_dir) else "ease"


def make_ranker(name: str, ctx: RankContext) -> Ranker:
    """A registered ranker by name; `model` = the best trained mode, `model-MODE` = that mode."""
    if name.startswith("model-"):
        return ModelRanker(name.removeprefix("model-"))
    if name == "model":
        if not text_modes(ctx.run_dir):
            raise RankerUnavailable(f"method 'model' needs a trained model and {ctx.run_dir / 'model'} has none; "
                                    f"train one with `graphassoc train {ctx.run_dir}` or pick --method ease")
        return pick_model_ranker(ctx)
    return RANKERS.get(name)()


class Recommender:
    """A run directory loaded once; see the module docstring for the evidence window."""

    def __init__(self, run: Run, ctx: RankContext, ranker: Ranker, method: str, cfg: RecommendConfig) -> None:
        self.run = run
        self.ctx = ctx
        self.ranker = ranker
        self.method = method
        self.cfg = cfg
        self.item_ids: list[str] = ctx.item_ids
        self.index: dict[str, int] = ctx.item_index
        self.titles: list[str] = [t or "" for t in ctx.items["title"].to_list()]

    @classmethod
    def load(cls, run_dir: str | Path, method: str | None = None, cfg: RecommendConfig | None = None) -> "Recommender":
        run = Run(run_dir, "items.parquet", "baskets.parquet")
        config = run.config
        cfg = cfg or config.recommend
        name = method or cfg.method or default_method(run.path)
        seed = first_seed(config.evaluate.seed, config.seed)
        ctx = RankContext(run.path, run.items(), run.baskets(), "test", seed, config.evaluate, config)
        ranker = make_ranker(name, ctx)
        tuned = _TunedValues(run.path, ctx) if cfg.reuse_tuning else None
        if tuned:
            tuned.restore()
        ranker.fit(ctx)
        if tuned:
            tuned.store()
        return cls(run, ctx, ranker, name, cfg)

    # -- lazily loaded evidence ---------------------------------------------------------------

    @cached_property
    def embeddings(self) -> np.ndarray:
        return item_embeddings(self.ctx)

    @cached_property
    def explainer(self) -> Explainer:
        require_run(self.run.path, "rules.parquet", "graph/edges.parquet")
        rules = RuleIndex(self.run.rules(), self.index, self.cfg.rule_order)
        try:
            embeddings: np.ndarray | None = self.embeddings
        except GraphassocError:  # no usable encoder: the evidence goes without text similarity
            embeddings = None
        return Explainer(self.item_ids, rules, copurchase_matrix(self.run.edges(), len(self.item_ids)), embeddings)

    @cached_property
    def personal(self):  # graphassoc.users.serving.PersonalLayer: history index + personal ranker, built on first use
        from graphassoc.users.serving import PersonalLayer

        return PersonalLayer(self)

    # -- queries ------------------------------------------------------------------------------

    def resolve(self, item_ids: Iterable[str]) -> np.ndarray:
        """Catalogue indices of the ids (unique, sorted); one clear line for an unknown id or an empty basket."""
        ids = [str(i).strip() for i in item_ids if str(i).strip()]
        if not ids:
            raise UsageError("empty basket: give at least one item id (--item ID or --basket ID ...), "
                             "or search the catalogue with --text \"...\"")
        unknown = [i for i in ids if i not in self.index]
        if len(unknown) > 1:
            raise UsageError(f"{len(unknown)} unknown item ids ({', '.join(repr(i) for i in unknown[:5])}); "
                             + self.unknown_message(unknown[0]).split("; ", 1)[1])
        if unknown:
            raise UsageError(self.unknown_message(unknown[0]))
        return np.unique(np.asarray([self.index[i] for i in ids], dtype=np.int64))

    def unknown_message(self, item_id: str) -> str:
        close = difflib.get_close_matches(item_id.upper(), self.item_ids, n=3, cutoff=0.6)
        hint = f"close ids: {', '.join(close)}; " if close else ""
        return (f"unknown item id '{item_id}' (not in {self.run.path / 'items.parquet'}); {hint}"
                f"to search by title use `graphassoc recommend {self.run.path} --text \"{item_id}\"`")

    def scores(self, queries: list[np.ndarray]) -> np.ndarray:
        """Ranker scores of the full catalogue, query items set to -inf."""
        scores = np.array(self.ranker.score(queries, chunk=self.cfg.chunk_size), dtype=np.float32, copy=True)
        return exclude_query_items(scores, queries)

    def _top(self, scores: np.ndarray, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per row: the best k item indices and their scores, -inf (query items) dropped."""
        best = top_k(scores, k, self.ctx.tiebreak)
        out = []
        for row, idx in enumerate(best):
            values = scores[row, idx]
            keep = np.isfinite(values)
            out.append((idx[keep], values[keep]))
        return out

    def ranker_labels(self, items: np.ndarray, prefix: str = "") -> list[str]:
        """Which ranker put each item there; for the hybrid, how much its gate trusted each side."""
        alpha = getattr(self.ranker, "alpha", None)
        parts = getattr(self.ranker, "evidence", None), getattr(self.ranker, "model", None)
        if alpha is None or None in parts:
            return [prefix + self.method] * len(items)
        return [f"{prefix}{self.method} ({alpha[i]:.0%} {parts[0].name}, {1 - alpha[i]:.0%} {parts[1].name})"
                for i in items]

    def _result(self, query: dict[str, Any], query_idx: np.ndarray, idx: np.ndarray, values: np.ndarray,
                prefix: str = "", text_vector: np.ndarray | None = None) -> RecommendResult:
        evidence = self.explainer.explain(query_idx, idx, self.ranker_labels(idx, prefix), text_vector)
        recs = [Recommendation(rank + 1, self.item_ids[i], self.titles[i], round(float(v), 6), ev)
                for rank, (i, v, ev) in enumerate(zip(idx, values, evidence))]
        return RecommendResult(self.run.path, self.method, query, recs)

    def recommend_basket(self, item_ids: Iterable[str], k: int | None = None) -> RecommendResult:
        ids = list(item_ids)
        query = self.resolve(ids)
        idx, values = self._top(self.scores([query]), k or self.cfg.k)[0]
        return self._result({"basket": ids}, query, idx, values)

    def recommend_user(self, user_id: str, item_ids: Iterable[str] = (), k: int | None = None) -> RecommendResult:
        """Personal: the basket model plus this customer's history (graphassoc/users/serving.py)."""
        return self.personal.recommend(user_id, list(item_ids), k or self.cfg.k)

    def recommend_item(self, item_id: str, k: int | None = None) -> RecommendResult:
        result = self.recommend_basket([item_id], k)
        result.query = {"item": item_id}
        return result

    def recommend_text(self, text: str, k: int | None = None) -> RecommendResult:
        """Semantic search over the catalogue, re-ranked by co-purchase evidence.

        1. cosine_j = cos(encoder(text), encoder(item j)) for every catalogue item (frozen encoder of
           the run's text config; new products included);
        2. the `text_candidates` best items by cosine are the candidates: results are always semantic
           matches, co-purchase evidence only reorders them;
        3. the top `text_seeds` matches form a basket and the ranker scores the catalogue for it;
           evidence_j is that score scaled to [0, 1] (catalogue median -> 0, best item -> 1, clipped),
           i.e. "how strongly is j bought together with what the text describes";
        4. final_j = cosine_j + text_evidence_weight * evidence_j over the candidates.
        With the default weight (0.1) evidence settles near-ties in cosine (MiniLM cosines of
        related titles differ by a few hundredths) without letting a merely popular item jump a
        clearly better match. A seed is never excluded: the user asked for it.
        """
        text = (text or "").strip()
        if not text:
            raise UsageError("empty --text: give a product description or a search query, e.g. --text \"red lunch bag\"")
        from graphassoc.text.encoder import encode_texts

        k = k or self.cfg.k
        vector = encode_texts([text], self.ctx.config.text, device=self.ctx.settings.device)[0]
        vector = vector / max(float(np.linalg.norm(vector)), 1e-12)
        cosine = self.embeddings @ vector
        order = np.lexsort((self.ctx.tiebreak, -cosine))  # ties: the protocol's popularity order
        candidates = order[:max(self.cfg.text_candidates, k)]
        seeds = np.sort(candidates[:self.cfg.text_seeds])
        evidence = scaled(self.ranker.score([seeds])[0])
        blended = cosine[candidates] + self.cfg.text_evidence_weight * evidence[candidates]
        best = candidates[np.argsort(-blended, kind="stable")][:k]
        values = cosine[best] + self.cfg.text_evidence_weight * evidence[best]
        return self._result({"text": text}, seeds, best, values, "text+", vector)

    # -- batch --------------------------------------------------------------------------------

    def recommend_batch(self, lines: Iterable[str | bytes], k: int | None = None) -> Iterator[dict[str, Any]]:
        """One output dict per non-blank input line, in input order; bad lines carry "error" and "line".

        Valid queries are scored `chunk_size` at a time with the ranker's batched score.
        """
        k = k or self.cfg.k
        pending: list[tuple[Any, np.ndarray | None, dict[str, Any] | None, tuple[str | None, int]]] = []
        n_valid = 0
        for line_no, line in enumerate(lines, 1):
            parsed = self._parse_line(line, line_no)
            if parsed is None:
                continue
            pending.append(parsed)
            n_valid += parsed[1] is not None
            if n_valid >= self.cfg.chunk_size:
                yield from self._flush(pending, k)
                pending, n_valid = [], 0
        yield from self._flush(pending, k)

    def _parse_line(self, line: str | bytes, line_no: int) -> tuple[Any, np.ndarray | None, dict[str, Any] | None, tuple[str | None, int]] | None:
        def error(message: str, query_id: Any = None) -> tuple[Any, None, dict[str, Any], tuple[None, int]]:
            return query_id, None, {"id": query_id, "line": line_no, "error": message, "items": [], "scores": []}, (None, 0)

        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8-sig")  # -sig: a BOM some editors put before line 1
            except UnicodeDecodeError:
                return error("line is not UTF-8 text")
        if not line.strip():
            return None
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            return error(f"not valid JSON ({err.msg} at column {err.colno})")
        if not isinstance(obj, dict) or "basket" not in obj or "id" not in obj:
            return error('expected an object {"id": ..., "basket": [item_id, ...]}',
                         obj.get("id") if isinstance(obj, dict) else None)
        basket = obj["basket"]
        if not isinstance(basket, list) or not all(isinstance(i, (str, int)) and not isinstance(i, bool) for i in basket):
            return error('"basket" must be a list of item ids', obj["id"])
        from graphassoc.users.serving import line_user

        try:
            user = line_user(obj)  # optional "user_id" (and "before"): personal recommendations
            if user[0] is not None and not basket:
                return obj["id"], np.zeros(0, dtype=np.int64), None, user
            return obj["id"], self.resolve(basket), None, user
        except UsageError as err:
            return error(str(err).split(";")[0] if basket else "empty basket", obj["id"])

    def _flush(self, pending: list[tuple[Any, np.ndarray | None, dict[str, Any] | None, tuple[str | None, int]]],
               k: int) -> Iterator[dict[str, Any]]:
        queries = [q for _, q, _, _ in pending if q is not None]
        users = [u for _, q, _, u in pending if q is not None]
        scores = self.scores(queries) if queries else None
        if scores is not None and any(u for u, _ in users):  # lines with a "user_id": personal rows
            rows = [i for i, (u, _) in enumerate(users) if u]
            scores[rows] = self.personal.scores([queries[i] for i in rows], [users[i][0] for i in rows],
                                                [users[i][1] for i in rows])
        tops = iter(self._top(scores, k)) if scores is not None else iter(())
        for query_id, query, failed, (user, before) in pending:
            if failed is not None:
                yield failed
                continue
            idx, values = next(tops)
            out = {"id": query_id, "items": [self.item_ids[i] for i in idx], "scores": [round(float(v), 6) for v in values]}
            if user:
                out["personal"] = self.personal.history.count(user, before) > 0
            yield out


def scaled(scores: np.ndarray) -> np.ndarray:
    """Scores mapped to [0, 1]: the catalogue median (typically 'no evidence') -> 0, the best item -> 1."""
    scores = np.nan_to_num(np.asarray(scores, dtype=np.float64), nan=-np.inf, neginf=-np.inf)
    finite = scores[np.isfinite(scores)]
    if len(finite) == 0:
        return np.zeros(len(scores))
    low, high = float(np.median(finite)), float(finite.max())
    if high <= low:
        return np.zeros(len(scores))
    return np.clip((scores - low) / (high - low), 0.0, 1.0)


def write_batch(rec: Recommender, queries: Path, out: Path, k: int | None = None, overwrite: bool = False,
                on_error: Callable[[int, str], None] = lambda _line, _msg: None) -> BatchSummary:
    """Score a JSONL file of queries into a JSONL file of recommendations, written atomically.

    Bad lines are written with their "error" and reported through on_error(line number, message);
    the output file appears only once complete (a temp sibling renamed into place), and not at all
    when no query could be answered (an empty or all-bad batch is a DataError, the old --out intact).
    """
    queries, out = Path(queries), Path(out)
    if not queries.is_file():
        raise UsageError(f"batch file '{queries}' does not exist; give a JSONL file of {{\"id\": ..., \"basket\": [...]}} lines")
    if out.exists() and not overwrite:
        raise UsageError(f"'{out}' already exists; choose another --out or pass --overwrite")
    if not out.parent.is_dir():
        raise UsageError(f"directory '{out.parent}' of --out does not exist; create it first")
    summary = BatchSummary(out=out)
    start = time.perf_counter()
    with atomic_file(out) as tmp:  # a failed batch never truncates an earlier --out nor leaves one behind
        with queries.open("rb") as src, tmp.open("w", encoding="utf-8") as dst:
            for result in rec.recommend_batch(src, k):
                summary.queries += 1
                if "error" in result:
                    summary.errors.append((result["line"], result["error"]))
                    on_error(result["line"], result["error"])
                else:
                    summary.answered += 1
                dst.write(json.dumps(result, ensure_ascii=False) + "\n")
        if summary.queries == 0:
            raise DataError(f"batch file '{queries}' holds no queries; expected one JSON object per line")
        if summary.answered == 0:
            line, message = summary.errors[0]
            raise DataError(f"none of the {summary.queries:,} queries of '{queries}' could be answered "
                            f"(line {line}: {message}); nothing was written")
    summary.seconds = time.perf_counter() - start
    return summary


class _TunedValues:
    """Tuned scalars of the rankers (EASE lambda, hybrid gate) kept in RUN/recommend/tuned.json.

    Tuning on validation costs several EASE fits; storing the values the rankers put in the
    context's cache makes the second `graphassoc recommend` start in seconds. The file is keyed by
    what the tuning depends on (baskets, evaluate and rankers config, trained models), so a changed run retunes.
    """

    def __init__(self, run_dir: Path, ctx: RankContext) -> None:
        self.path = run_dir / TUNED_FILE
        self.ctx = ctx
        models = sorted((str(p.relative_to(run_dir)), p.stat().st_mtime_ns)
                        for p in (run_dir / "model").rglob("*") if p.is_file()) if (run_dir / "model").is_dir() else []
        baskets = (run_dir / "baskets.parquet").stat()
        # The cache's layout is the rankers' own business: a changed rankers package retunes.
        code = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(RANKERS_DIR.glob("*.py")))).hexdigest()[:16]
        self.key = json.dumps({"baskets": [baskets.st_size, baskets.st_mtime_ns], "models": models, "seed": ctx.seed,
                               "evaluate": ctx.eval_cfg.model_dump(mode="json"),
                               "settings": ctx.settings.model_dump(mode="json"), "rankers": code}, sort_keys=True)

    def restore(self) -> None:
        try:
            stored = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return
        if stored.get("key") == self.key:
            self.ctx.cache.update(stored.get("values", {}))

    def store(self) -> None:
        values = {k: v for k, v in self.ctx.cache.items() if _plain(v)}
        try:
            self.path.parent.mkdir(exist_ok=True)
            with atomic_file(self.path) as tmp:
                tmp.write_text(json.dumps({"key": self.key, "values": values}))
        except (OSError, UsageError):  # a read-only run directory: tune again next time
            pass


def _plain(value: Any) -> bool:
    """JSON-safe tuned values only (numbers, strings, short lists/dicts of them), never arrays or models."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return True
    if isinstance(value, (list, tuple)):
        return len(value) <= 64 and all(_plain(v) for v in value)
    if isinstance(value, dict):
        return len(value) <= 64 and all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False
