"""Personal recommendations inside `graphassoc recommend` (--user, and "user_id" in --batch lines).

A thin layer over a loaded Recommender: the customer's history index is built once, the personal
ranker (config users.serve_ranker) wraps the Recommender's own ranker as its base, so a line
without a user, or a customer without history, gets exactly the non-personal ranking. History is
every basket of the customer in the run ("now"), or those strictly before an optional "before"
timestamp of a batch line (to replay past queries without leakage).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from graphassoc.errors import DataError, UsageError
from graphassoc.evaluate.protocol import exclude_query_items
from graphassoc.users.history import NO_TIME, RECENT_BASKETS, UserHistory, to_micros


class PersonalLayer:
    def __init__(self, rec: Any) -> None:  # rec: graphassoc.recommend.service.Recommender
        from graphassoc.users.personal import PersonalRanker
        from graphassoc.users.rerank import RerankRanker

        self.rec = rec
        cfg = rec.ctx.config.users
        self.history = UserHistory.from_baskets(rec.ctx.baskets, rec.ctx.item_index)
        kind = {"personal": PersonalRanker, "personal-rerank": RerankRanker}[cfg.serve_ranker]
        self.ranker = kind(self.history, cfg, base=rec.ranker).fit(rec.ctx)
        # "Now" = just after the run's last basket: recency features then mean what they meant in training.
        self.now = self.history.latest + 1 if len(self.history.times) else NO_TIME

    def check_user(self, user_id: str) -> str:
        user_id = str(user_id).strip()
        if user_id not in self.history:
            raise DataError(f"unknown user '{user_id}': no basket of {self.rec.run.path / 'baskets.parquet'} has this "
                            "user_id; check the id (UCI CustomerID 17850.0 is '17850') or drop --user")
        return user_id

    def scores(self, queries: list[np.ndarray], users: Sequence[str | None], before: Sequence[int]) -> np.ndarray:
        before = [self.now if b == NO_TIME else b for b in before]
        scores = np.array(self.ranker.score(queries, users, before), dtype=np.float32)
        return exclude_query_items(scores, queries)

    def bought_before(self, user_id: str, items: np.ndarray, before: int = NO_TIME) -> list[str | None]:
        """Per recommended item: "bought before in n of m baskets, last k baskets ago", or None."""
        rows = self.history.rows(user_id, before, recent=RECENT_BASKETS)
        of = f"{len(rows)}" if len(rows) == self.history.count(user_id, before) else f"their last {len(rows)}"
        out: list[str | None] = []
        for item in items:
            holding = [i for i, r in enumerate(rows) if item in self.history.basket(r)]
            out.append(f"bought by this customer before: in {len(holding)} of {of} baskets, "
                       f"last {len(rows) - 1 - holding[-1]} baskets ago" if holding else None)
        return out

    def recommend(self, user_id: str, basket_ids: list[str], k: int) -> Any:
        """A RecommendResult for the customer (and an optional current basket), with history evidence."""
        rec = self.rec
        user_id = self.check_user(user_id)
        query = rec.resolve(basket_ids) if basket_ids else np.zeros(0, dtype=np.int64)
        idx, values = rec._top(self.scores([query], [user_id], [NO_TIME]), k)[0]
        notes = self.bought_before(user_id, idx)
        labels = [f"{self.ranker.name}: {n}" if n else f"{self.ranker.name} (basket model: {rec.method})" for n in notes]
        result = rec._result({"user": user_id, "basket": basket_ids}, query, idx, values)
        for recommendation, label in zip(result.items, labels):
            if recommendation.evidence is not None:
                recommendation.evidence.ranker = label
        result.method = f"{self.ranker.name} over {rec.method}"
        return result


def line_user(obj: dict[str, Any]) -> tuple[str | None, int]:
    """The optional "user_id" and "before" (ISO time) of a batch line."""
    user = obj.get("user_id")
    if user is None:
        return None, NO_TIME
    if isinstance(user, float) and user.is_integer():  # 17850.0, as pandas writes UCI CustomerIDs
        user = int(user)
    before = obj.get("before")
    try:
        return str(user).strip(), to_micros(before) if before is not None else NO_TIME
    except (TypeError, ValueError):
        raise UsageError(f'"before" must be an ISO timestamp such as "2011-10-01T09:00:00", got {before!r}') from None
