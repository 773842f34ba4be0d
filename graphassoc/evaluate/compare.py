"""`compare`: every ranker on the same leak-free test queries, with intervals, strata and a report.

Everything is computed from the run directory's artifacts (baskets, items, rules/graph for the
leakage check, RUN/model/ for trained models), so rerunning compare never retrains anything.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import polars as pl

from graphassoc.config import Config
from graphassoc.errors import UsageError
from graphassoc.evaluate import metrics as M
from graphassoc.evaluate.config import EvaluateConfig
from graphassoc.evaluate.leakage import check_leakage
from graphassoc.evaluate.protocol import (MultiQueries, Queries, Ranking, draws_within, evaluate, evaluate_multi,
                                          item_to_basket, leave_one_out, sample_split, target_cooccurrence)
from graphassoc.rankers.base import RANKERS, Ranker, RankerUnavailable
from graphassoc.rankers.context import RankContext
from graphassoc.rankers.model import ModelRanker, text_modes
from graphassoc.rankers.rules import RulesRanker
from graphassoc.runs import Run, Timings, atomic_dir, first_seed, update_meta, write_json

Progress = Callable[[str], None]
HEADLINE = ("hr@10", "ndcg@10", "mrr")
ITEM_TO_BASKET = ("hr@10", "recall@10", "ndcg@10", "mrr")
POPULARITY_BUCKETS = ((0, 0, "0 (new)"), (1, 10, "1-10"), (11, 50, "11-50"), (51, 200, "51-200"), (201, None, ">200"))


@dataclass
class RankerRun:
    ranker: Ranker
    ranking: Ranking
    per_query: dict[str, np.ndarray]
    seconds: float
    item_to_basket: dict[str, np.ndarray] = field(default_factory=dict)
    draws: list[dict[str, float]] = field(default_factory=list)  # metric means per extra hidden-item draw


@dataclass
class CompareResult:
    run_dir: Path
    seed: int
    n_queries: int
    strata_sizes: dict[str, int]
    metrics: dict[str, dict[str, Any]]  # ranker -> overall / strata / coverage / bias / notes
    paired: dict[str, dict[str, Any]]  # ranker -> stratum -> metric -> difference vs best baseline
    best_baseline: str | None
    skipped: dict[str, str]
    leakage: dict[str, Any]
    popularity_buckets: dict[str, dict[str, float]] = field(default_factory=dict)
    overlap: dict[str, Any] = field(default_factory=dict)
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    protocol: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, Any] = field(default_factory=dict)
    personal: dict[str, Any] = field(default_factory=dict)  # graphassoc/users/evaluate.py: history strata, audiences

    def headline(self) -> list[dict[str, Any]]:
        """One row per ranker: the figures of the terminal table (cli/compare.py) and the report's first
        table (report.py), each a point value with its bootstrap interval under "intervals"."""
        rows = []
        for name, m in self.metrics.items():
            never_seen = m["strata"].get("never_seen", {})
            rows.append({"ranker": name, **{k: m["overall"][k] for k in HEADLINE},
                         "hr@10 never-seen": never_seen.get("hr@10"),
                         "coverage@10": m["coverage@10"], "popularity_percentile@10": m["popularity_percentile@10"],
                         "intervals": {**{k: m["overall"]["intervals"][k] for k in HEADLINE},
                                       "hr@10 never-seen": never_seen.get("intervals", {}).get("hr@10")}})
        return rows

    def to_json(self) -> dict[str, Any]:
        return {"run_dir": str(self.run_dir), "seed": self.seed, "n_queries": self.n_queries,
                "strata_sizes": self.strata_sizes, "protocol": self.protocol, "best_baseline": self.best_baseline,
                "metrics": self.metrics, "paired_vs_best_baseline": self.paired, "skipped": self.skipped,
                "leakage": self.leakage, "hr@10_by_target_popularity": self.popularity_buckets,
                "top10_overlap": self.overlap,
                "examples": self.examples, "timings": self.timings, "personal": self.personal}

    def save(self, directory: Path) -> None:
        from graphassoc.evaluate.report import render_html, render_markdown

        write_json(directory / "metrics.json", _finite(self.to_json()))
        (directory / "report.md").write_text(render_markdown(self))
        (directory / "report.html").write_text(render_html(self))


def _finite(obj: Any) -> Any:
    """NaN (an empty stratum) as null, so metrics.json is strict JSON every reader accepts."""
    if isinstance(obj, float) and obj != obj:
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _expand(names: list[str], run_dir: Path) -> tuple[list[Ranker], dict[str, str]]:
    """Ranker instances for the configured names; `model` becomes one ranker per trained mode."""
    rankers: list[Ranker] = []
    skipped: dict[str, str] = {}
    for name in names:
        RANKERS.get(name)  # unknown names fail here, with the valid ones listed
        if name == "model":
            modes = text_modes(run_dir)
            if not modes:
                skipped["model"] = f"no trained model in {run_dir / 'model'}; run `graphassoc train {run_dir}` first"
            rankers.extend(ModelRanker(mode) for mode in modes)
        else:
            rankers.append(RANKERS.get(name)())
    return rankers, skipped


def _run_ranker(ranker: Ranker, ctx: RankContext, queries: Queries, i2b: MultiQueries,
                extra_draws: list[Queries]) -> RankerRun:
    start = time.perf_counter()
    ranker.fit(ctx)
    if isinstance(ranker, RulesRanker):  # the share of test queries rules can answer at all
        ranker.notes["answered_share"] = round(float(ranker.answered(queries.query).mean()), 4)
    ranking = evaluate(ranker.score, queries, ctx.tiebreak, k=20, chunk=ctx.eval_cfg.chunk_size)
    multi = M.per_query_multi(evaluate_multi(ranker.score, i2b, ctx.tiebreak)) if len(i2b) else {}
    draws = []
    for extra in extra_draws:
        pq = M.per_query(evaluate(ranker.score, extra, ctx.tiebreak, k=10, chunk=ctx.eval_cfg.chunk_size).ranks)
        draws.append({k: float(pq[k].mean()) for k in HEADLINE})
    return RankerRun(ranker, ranking, M.per_query(ranking.ranks), time.perf_counter() - start,
                     {k: multi[k] for k in ITEM_TO_BASKET} if multi else {}, draws)


def _summaries(runs: dict[str, RankerRun], masks: dict[str, np.ndarray], ctx: RankContext, seed: int) -> tuple[dict, dict, str | None]:
    n_boot = ctx.eval_cfg.n_bootstrap
    n = len(next(iter(runs.values())).ranking.ranks) if runs else 0
    groups = {"overall": np.ones(n, dtype=bool), **masks}
    weights = {g: M.bootstrap_weights(int(mask.sum()), n_boot, seed + i) for i, (g, mask) in enumerate(groups.items())}
    out: dict[str, dict[str, Any]] = {}
    for name, run in runs.items():
        entry: dict[str, Any] = {"overall": {}, "strata": {}}
        for g, mask in groups.items():
            summary = {k: float(v[mask].mean()) if mask.any() else float("nan") for k, v in run.per_query.items()}
            intervals = M.summarize({k: run.per_query[k][mask] for k in HEADLINE}, weights[g])
            target = entry["overall"] if g == "overall" else entry["strata"].setdefault(g, {})
            target.update(summary)
            target["intervals"] = intervals
        if run.item_to_basket:
            w = weights.setdefault("item_to_basket", M.bootstrap_weights(len(run.item_to_basket["mrr"]), n_boot, seed + 99))
            entry["item_to_basket"] = M.summarize(run.item_to_basket, w)
        if run.draws:
            all_draws = [{k: entry["overall"][k] for k in HEADLINE}, *run.draws]
            entry["draws"] = {k: {"mean": float(np.mean([d[k] for d in all_draws])),
                                  "min": float(min(d[k] for d in all_draws)),
                                  "max": float(max(d[k] for d in all_draws))} for k in HEADLINE}
            entry["draws"]["n"] = len(all_draws)
        entry["coverage@10"] = M.coverage(run.ranking.top, ctx.n_items)
        entry.update(M.popularity_bias(run.ranking.top, ctx.popularity))
        entry["notes"] = run.ranker.notes
        entry["seconds"] = round(run.seconds, 2)
        entry["baseline"] = run.ranker.baseline
        out[name] = entry
    baselines = [name for name, run in runs.items() if run.ranker.baseline]
    best = max(baselines, key=lambda b: out[b]["overall"]["hr@10"]) if baselines else None
    paired: dict[str, dict[str, Any]] = {}
    if best is not None:
        for name, run in runs.items():
            if name == best:
                continue
            paired[name] = {g: {k: M.paired_difference(run.per_query[k][mask], runs[best].per_query[k][mask], weights[g])
                                for k in HEADLINE} for g, mask in groups.items()}
    return out, paired, best


def _popularity_buckets(runs: dict[str, RankerRun], target_pop: np.ndarray) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for lo, hi, label in POPULARITY_BUCKETS:
        mask = (target_pop >= lo) & ((target_pop <= hi) if hi is not None else True)
        out[label] = {"queries": int(mask.sum()),
                      **{name: float(run.per_query["hr@10"][mask].mean()) if mask.any() else float("nan")
                         for name, run in runs.items()}}
    return out


def _model_side(runs: dict[str, RankerRun]) -> str | None:
    """The ranker standing for "the model" in overlap plots and examples: the best trained model,
    else the hybrid, else text-only."""
    models = [n for n, r in runs.items() if isinstance(r.ranker, ModelRanker) and not r.ranker.baseline]
    if models:
        return max(models, key=lambda n: runs[n].per_query["hr@10"].mean())
    return next((n for n in ("hybrid", "text") if n in runs), None)


def _run_rankers(rankers: list[Ranker], ctx: RankContext, queries: Queries, i2b: MultiQueries, extra_draws: list[Queries],
                 timings: Timings, skipped: dict[str, str], progress: Progress) -> dict[str, RankerRun]:
    """Each ranker fitted and evaluated in turn; one that cannot run here is noted in `skipped`."""
    runs: dict[str, RankerRun] = {}
    for ranker in rankers:
        progress(f"{ranker.name}: fitting and ranking {len(queries):,} queries")
        try:
            with timings.stage(f"compare_{ranker.name}"):
                runs[ranker.name] = _run_ranker(ranker, ctx, queries, i2b, extra_draws)
        except RankerUnavailable as err:
            skipped[ranker.name] = str(err)
            progress(f"{ranker.name}: skipped ({err})")
    return runs


def _protocol(ecfg: EvaluateConfig, seed: int, n_queries: int, n_item_to_basket: int, tested: int,
              draws: int) -> dict[str, Any]:
    """What the report says about how the figures were measured (`tested`: test baskets before any sample)."""
    sampled = ecfg.max_test_baskets is not None and tested > ecfg.max_test_baskets
    return {"task": "leave-one-out basket completion (headline); item-to-basket as a second task",
            "split": "test", "queries": n_queries, "item_to_basket_queries": n_item_to_basket,
            "test_baskets": (f"a uniform sample of {ecfg.max_test_baskets:,} of {tested:,} (seed {seed}, "
                             "evaluate.max_test_baskets)") if sampled else f"all {tested:,}",
            "hidden_item": f"one per basket, drawn with seed {seed}" + (
                f"; {draws} draws (seeds {seed}-{seed + draws - 1}) for the spread across draws" if draws > 1 else
                f"; one draw (evaluate.draws={ecfg.draws} capped so the draws' queries stay within "
                f"evaluate.max_test_baskets)" if ecfg.draws > 1 else ""),
            "evidence_window": "train + valid baskets (everything before the test cut)",
            "tuning": f"validation split (at most train.validation_baskets of its baskets), metric {ecfg.tune_metric}",
            "ties": "broken by evidence popularity, then item index",
            "strata": "cold / sparse / warm: evidence baskets holding the target together with at least "
                      "one query item (0 / 1-5 / > 5); never_seen: target in no evidence basket",
            "bootstrap": f"{ecfg.n_bootstrap} resamples of the queries, percentile 95% intervals, paired"}


def _strata(ctx: RankContext, queries: Queries) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The queries' strata masks (by the target's co-occurrence with the query in the evidence) and
    the targets' evidence popularity."""
    target_pop = ctx.popularity[queries.target]
    return M.strata(target_cooccurrence(ctx.evidence, queries), target_pop == 0), target_pop


def compare(run_dir: Path, cfg: Config | None = None, progress: Progress = lambda _m: None,
            overwrite: bool = False) -> CompareResult:
    """Fit every configured ranker, evaluate it on the test split, write RUN/compare/ atomically."""
    run = Run(run_dir, "baskets.parquet", "items.parquet")
    cfg = cfg or run.config
    ecfg = cfg.evaluate
    out_dir = run.path / "compare"
    if out_dir.exists() and not overwrite:
        raise UsageError(f"'{out_dir}' already exists; pass --overwrite to recompute it")
    seed = first_seed(ecfg.seed, cfg.seed)
    timings = Timings()
    with timings.stage("compare_load"):
        baskets, items = run.baskets(), run.items()
    progress("checking that no test basket reached mining, the graph or training")
    with timings.stage("compare_leakage"):
        leakage = check_leakage(run.path, baskets, items)
    tested = baskets.filter(pl.col("split") == "test").height
    baskets = sample_split(baskets, "test", ecfg.max_test_baskets, seed)
    ctx = RankContext(run.path, items, baskets, "test", seed, ecfg, cfg)
    queries = ctx.queries()
    if len(queries) == 0:
        raise UsageError("the test split has no basket with 2 or more items; set split.test_start or "
                         "split.test_fraction when building the run")
    masks, target_pop = _strata(ctx, queries)
    i2b = item_to_basket(baskets, ctx.item_index, "test", seed)
    draws = draws_within(ecfg.draws, ecfg.max_test_baskets, len(queries))
    extra_draws = [leave_one_out(baskets, ctx.item_index, "test", seed + d) for d in range(1, draws)]
    rankers, skipped = _expand(ecfg.rankers, run.path)
    runs = _run_rankers(rankers, ctx, queries, i2b, extra_draws, timings, skipped, progress)
    if not runs:
        raise UsageError(f"no ranker could run: {'; '.join(f'{k}: {v}' for k, v in skipped.items())}")
    personal: dict[str, Any] = {}
    if cfg.users.evaluate:  # personal rankers + "customer with history" strata + audiences (graphassoc/users/)
        from graphassoc.users.evaluate import add_personal

        with timings.stage("compare_personal"):
            personal = add_personal(ctx, queries, runs, masks, cfg.users, progress)
    with timings.stage("compare_statistics"):
        summary, paired, best = _summaries(runs, masks, ctx, seed)
    if personal:
        from graphassoc.users.evaluate import personal_summary

        personal = personal_summary(personal, summary)
    from graphassoc.evaluate.examples import overlap, worked_examples

    model_side = _model_side(runs)
    result = CompareResult(
        run_dir=run.path, seed=seed, n_queries=len(queries),
        strata_sizes={k: int(v.sum()) for k, v in masks.items()}, metrics=summary, paired=paired,
        best_baseline=best, skipped=skipped, leakage=leakage,
        popularity_buckets=_popularity_buckets(runs, target_pop),
        overlap=overlap(runs, "rules", model_side),
        examples=worked_examples(runs, "rules", model_side, ctx, queries, ecfg.examples),
        protocol=_protocol(cfg.evaluate, seed, len(queries), len(i2b), tested, draws), timings=timings.stages, personal=personal)
    progress("writing the report")
    with atomic_dir(out_dir, overwrite=overwrite) as tmp:
        result.save(tmp)
    update_meta(run.path, timings={**timings.stages})
    return result
