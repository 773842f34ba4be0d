"""Config of drift monitoring (`graphassoc drift OLD_RUN NEW_RUN`): what counts as an alert (exit code 3)."""

from __future__ import annotations

from pydantic import Field

from graphassoc.data.config import StrictModel


class DriftConfig(StrictModel):
    # Share of the old run's rules that no longer hold in the new run (vanished / old rules).
    max_vanished_rules: float = Field(default=0.5, ge=0.0, le=1.0)
    # Share of the new run's rules that did not hold before (appeared / new rules).
    max_appeared_rules: float = Field(default=0.5, ge=0.0, le=1.0)
    # Relative change of the mean basket size (|new - old| / old).
    max_basket_size_shift: float = Field(default=0.25, ge=0.0)
    # Share of the new period's sold items the old run never saw (new products).
    max_new_item_share: float = Field(default=0.3, ge=0.0, le=1.0)
    # Change of the share of lines dropped by cleaning (absolute, e.g. 0.05 = 5 points).
    max_dropped_share_shift: float = Field(default=0.05, ge=0.0, le=1.0)
    # The old model's HR@10 on the new period below this is an alert (null: never).
    min_old_model_hr10: float | None = Field(default=0.1, ge=0.0, le=1.0)
    # Ranker of the old run scored on the new period (null: the run's default, hybrid or ease).
    method: str | None = None
    # Leave-one-out queries drawn from the new period's baskets (bounded cost).
    max_queries: int = Field(default=5000, ge=1)
    # Rules listed per table in the report.
    top: int = Field(default=20, ge=1)
