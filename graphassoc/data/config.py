"""Configs of the data stages: ingest (column mapping), cleaning, split."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataConfig(StrictModel):
    # Which column names the transactions file uses; `columns` overrides single names
    # (canonical name -> name in the file), `catalog_columns` does the same for the catalog.
    preset: Literal["canonical", "online_retail", "online_retail_ii"] = "canonical"
    columns: dict[str, str] = Field(default_factory=dict)
    catalog_columns: dict[str, str] = Field(default_factory=dict)


class CleanConfig(StrictModel):
    # Baskets whose id matches this pattern are cancellations / credit notes (UCI: C..., A...).
    cancelled_basket_pattern: str | None = "^[CA]"
    # Item ids that are products; other ids (postage, fees, manual lines) are dropped. None keeps all.
    item_pattern: str | None = None
    drop_duplicate_lines: bool = True
    # Baskets with more distinct items than this are dropped (wholesale orders). None: no cap.
    max_basket_size: int | None = Field(default=None, ge=2)


class SplitConfig(StrictModel):
    # Global time split: train < valid_start <= valid < test_start <= test. Dates win over fractions.
    valid_start: date | None = None
    test_start: date | None = None
    valid_fraction: float = Field(default=0.1, ge=0.0, lt=1.0)
    test_fraction: float = Field(default=0.0, ge=0.0, lt=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> "SplitConfig":
        if self.valid_start and self.test_start and self.test_start < self.valid_start:
            raise ValueError("split.test_start must not be before split.valid_start")
        if self.valid_fraction + self.test_fraction >= 1.0:
            raise ValueError("split.valid_fraction + split.test_fraction must be below 1")
        return self
