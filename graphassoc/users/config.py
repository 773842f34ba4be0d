"""Config of the user-side stages: personal rankers, profiles, audiences, co-stocking groups, bundles."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from graphassoc.data.config import StrictModel


class UsersConfig(StrictModel):
    # `graphassoc compare` adds the personal rankers, the history strata and the audience evaluation.
    evaluate: bool = True
    # Personal rankers compare fits; "personal-rerank" is opt-in (slower, and below "personal" on the full data).
    compare_rankers: list[Literal["ease+repeat", "personal", "personal-rerank"]] = Field(
        default_factory=lambda: ["ease+repeat", "personal"])
    # Personal rankers: the basket model they add the customer's history to ("auto": hybrid when a
    # model is trained, else ease; the default ranker of `graphassoc recommend`).
    base: str = "auto"
    # Tuned on the validation queries (history = the customer's baskets before each query; tune_draws
    # hidden-item draws per basket, fewer where they would exceed train.validation_baskets queries) by
    # coordinate ascent over these grids, each starting at its first value
    # (graphassoc/users/personal.py): recency decay of a past basket per newer basket (TIFU-KNN's
    # r_b), the weights of the decayed repeat share, of the share in baskets like the current one and
    # of log(1 + count), and the exponent of the "share of the basket bought before" gate (0 = none).
    decays: list[float] = Field(default_factory=lambda: [1.0, 0.9, 0.8, 0.6, 0.4], min_length=1)
    repeat_weights: list[float] = Field(default_factory=lambda: [0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0], min_length=1)
    similar_weights: list[float] = Field(default_factory=lambda: [0.0, 2.0, 4.0, 8.0, 16.0, 32.0], min_length=1)
    count_weights: list[float] = Field(default_factory=lambda: [0.0, 0.5, 1.0, 2.0, 4.0, 8.0], min_length=1)
    gates: list[float] = Field(default_factory=lambda: [0.0, 0.5, 1.0, 2.0, 3.0], min_length=1)
    # ... and of the item's re-buy rate in the shop, of exp(-days since the customer last bought it /
    # recency_days), and a flat weight of "bought before" (negative: history items the other terms do
    # not back sink below the basket model's best new items).
    rate_weights: list[float] = Field(default_factory=lambda: [0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0], min_length=1)
    fresh_weights: list[float] = Field(default_factory=lambda: [0.0, 0.5, 1.0, 2.0, 4.0, 8.0], min_length=1)
    recency_days: list[Annotated[float, Field(gt=0)]] = Field(default_factory=lambda: [90.0, 30.0, 180.0], min_length=1)
    bought_weights: list[float] = Field(default_factory=lambda: [0.0, -1.0, -0.5, 0.5, 1.0, 2.0], min_length=1)
    tune_draws: int = Field(default=4, ge=1, le=20)
    # Extra starts of the coordinate ascent (seeded random points of the grids): the terms trade off, so
    # one ascent from all-zero weights can stop on a ridge.
    tune_restarts: int = Field(default=6, ge=0)
    # The item-side form of TIFU-KNN's neighbour term, z(EASE applied to the customer's item shares),
    # one tuning pass per weight: opt-in, it did not pay on the full data.
    neighbour_weights: list[float] = Field(default_factory=lambda: [0.0], min_length=1)
    # The baseline "repeat-count boost on EASE": z(EASE) + weight * count of the customer's past baskets holding j.
    boost_weights: list[float] = Field(default_factory=lambda: [0.1, 0.25, 0.5, 1.0, 2.0, 4.0])
    # Which personal ranker `graphassoc recommend --user` / batch "user_id" lines use.
    serve_ranker: Literal["personal", "personal-rerank"] = "personal"  # the better on the full data's test
    # personal-rerank: candidates per query (the base's best items, the customer's most recent past
    # items) and hidden-item draws per validation basket to train the learned blend on.
    rerank_base_candidates: int = Field(default=50, ge=10)
    rerank_history_candidates: int = Field(default=200, ge=10)
    rerank_draws: int = Field(default=4, ge=1, le=20)
    # Profiles: how many top items / categories to keep, and the segment thresholds (days since the last basket).
    profile_top: int = Field(default=5, ge=1)
    active_days: int = Field(default=30, ge=1)
    lapsed_days: int = Field(default=90, ge=1)
    # Audiences: candidate users are those with history; evaluated on items bought in the test period.
    audience_k: int = Field(default=100, ge=1)
    # Items the audience evaluation scores (per period: valid for tuning, test for the report): at most
    # this many, a seeded uniform sample of the items bought in it. Each item scores every customer, so
    # the cost is items x customers; 5,000 keeps the shared data whole (about 2,500 items a period) and
    # bounds a million-basket shop's evaluation. None: every item.
    audience_items: int | None = Field(default=5000, ge=10)
    # Co-stocking groups: Louvain resolution (higher -> more, smaller groups) on the co-purchase graph,
    # keeping edges seen in at least groups_min_count train baskets.
    groups_resolution: float = Field(default=1.0, gt=0.0)
    groups_min_count: int = Field(default=3, ge=1)
    # Bundles: 2..bundles_max_size items, each bundle bought together in at least bundles_min_count train baskets.
    bundles_min_count: int = Field(default=10, ge=1)
    bundles_max_size: int = Field(default=4, ge=2, le=4)
