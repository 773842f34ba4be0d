"""The answers of the query routes, as plain functions of a LoadedRun (no HTTP in here).

Unknown item ids never fail a request: /recommend leaves them out of the query and lists them
under "unknown"; the item routes answer 404 with the closest ids.
"""

from __future__ import annotations

import inspect
from typing import Any, Literal

import numpy as np
import polars as pl
from fastapi import HTTPException

from graphassoc.serve.state import LoadedRun

RuleSort = Literal["lift", "confidence", "support", "count", "leverage", "conviction"]


def _answer(run: LoadedRun, rec: Any, result: Any | None, unknown: list[str], personal: bool = False,
            message: str | None = None) -> dict[str, Any]:
    items = [] if result is None else [
        {"item_id": r.item_id, "title": r.title, "score": r.score,
         "evidence": r.evidence.to_dict() if r.evidence is not None else None} for r in result.items]
    return {"items": items, "unknown": unknown, "method": rec.method, "version": run.version,
            "personal": personal, "message": message}


def recommend(run: LoadedRun, body: Any) -> dict[str, Any]:
    rec = run.recommender(body.method)
    if body.text is not None:
        return _answer(run, rec, rec.recommend_text(body.text, body.k), [])
    ids = [str(i).strip() for i in (body.basket if body.basket is not None else [body.item])]
    ids = [i for i in dict.fromkeys(ids) if i]
    known = [i for i in ids if i in rec.index]
    unknown = [i for i in ids if i not in rec.index]
    if not known:
        why = "no known item in the query" if ids else "empty basket"
        return _answer(run, rec, None, unknown, message=f"{why}; search the catalogue with GET /search?q=...")
    personal = False
    if body.user_id is not None and "user_id" in inspect.signature(rec.recommend_basket).parameters:
        # Personal answers come with the users feature of the Recommender; without it user_id is ignored.
        result = rec.recommend_basket(known, body.k, user_id=str(body.user_id))
        personal = bool(getattr(result, "personal", True))
    else:
        result = rec.recommend_basket(known, body.k)
    if body.item is not None:
        result.query = {"item": known[0]}
    message = f"{len(unknown)} unknown item id(s) left out of the query" if unknown else None
    return _answer(run, rec, result, unknown, personal, message)


def _require_item(rec: Any, item_id: str) -> int:
    if item_id not in rec.index:
        raise HTTPException(404, detail=rec.unknown_message(item_id).split("; to search")[0]
                            + "; search by title with GET /search?q=...")
    return int(rec.index[item_id])


def related(run: LoadedRun, item_id: str, k: int, method: str | None) -> dict[str, Any]:
    rec = run.recommender(method)
    _require_item(rec, item_id)
    return _answer(run, rec, rec.recommend_item(item_id, k), [])


def search(run: LoadedRun, q: str, k: int, method: str | None) -> dict[str, Any]:
    if not q.strip():
        raise HTTPException(422, detail="q is blank; give a product description or search words")
    rec = run.recommender(method)
    return _answer(run, rec, rec.recommend_text(q, k), [])


def rules(run: LoadedRun, item: str | None, sort: str, descending: bool, min_confidence: float,
          min_lift: float, limit: int) -> dict[str, Any]:
    rec = run.default
    table = run.rules
    if item is not None:
        _require_item(rec, item)
        table = table.filter(pl.col("antecedents").list.contains(item) | pl.col("consequents").list.contains(item))
    table = table.filter((pl.col("confidence") >= min_confidence) & (pl.col("lift") >= min_lift))
    total = table.height
    table = table.sort(sort, descending=descending).head(limit)
    titles = dict(zip(rec.item_ids, rec.titles))
    out = []
    for row in table.select("antecedents", "consequents", "support", "confidence", "lift", "count", "leverage",
                            "conviction").iter_rows(named=True):
        row["antecedent_titles"] = [titles.get(i, "") for i in row["antecedents"]]
        row["consequent_titles"] = [titles.get(i, "") for i in row["consequents"]]
        # Conviction is infinite for rules with confidence 1; JSON has no infinity.
        row["conviction"] = None if row["conviction"] is None or not np.isfinite(row["conviction"]) else row["conviction"]
        out.append(row)
    return {"total": total, "rules": out}


def item(run: LoadedRun, item_id: str, n_neighbours: int) -> dict[str, Any]:
    """The item's catalogue row, its strongest co-purchase partners and the edges among them."""
    rec = run.default
    idx = _require_item(rec, item_id)
    row = rec.ctx.items.row(idx, named=True)
    copurchase = rec.explainer.copurchase
    start, end = copurchase.indptr[idx], copurchase.indptr[idx + 1]
    partners, counts = copurchase.indices[start:end], copurchase.data[start:end]
    best = np.lexsort((rec.ctx.tiebreak[partners], -counts))[:n_neighbours]
    partners, counts = partners[best], counts[best]
    among = copurchase[partners][:, partners].tocoo()
    edges = [[rec.item_ids[partners[a]], rec.item_ids[partners[b]], int(c)]
             for a, b, c in zip(among.row, among.col, among.data) if a < b]
    info = {k: (v if not isinstance(v, float) or np.isfinite(v) else None) for k, v in row.items()}
    return {**info, "item_id": item_id, "new": int(row.get("popularity") or 0) == 0,
            "neighbours": [{"item_id": rec.item_ids[j], "title": rec.titles[j], "count": int(c)}
                           for j, c in zip(partners, counts)],
            "edges": edges}
