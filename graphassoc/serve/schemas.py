"""Request and response bodies of the HTTP API (GUIDE.md section 3); the limits come from ServeConfig."""

from __future__ import annotations

from typing import Any, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graphassoc.serve.config import ServeConfig

ItemId = Union[str, int]  # UCI ids are strings ("85123A"); clients often send the numeric ones as numbers


class RecommendedItem(BaseModel):
    item_id: str
    title: str
    score: float
    evidence: Optional[dict[str, Any]] = None


class RecommendResponse(BaseModel):
    items: list[RecommendedItem]
    unknown: list[str] = Field(description="query item ids not in the catalogue (left out of the query)")
    method: str
    version: str = Field(description="the served run's version (changes on reload)")
    personal: bool = Field(False, description="true when user_id made the answer personal")
    message: Optional[str] = None


class RulesResponse(BaseModel):
    total: int = Field(description="rules matching the filter, before the limit")
    rules: list[dict[str, Any]]


class ReloadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    run: Optional[str] = Field(None, description="run directory to serve; default: reload the current one")


def recommend_request_model(cfg: ServeConfig) -> type[BaseModel]:
    """The /recommend body with this server's limits in its schema (so OpenAPI shows them)."""

    class RecommendRequest(BaseModel):
        # Other keys are ignored, as in batch files (a client may send its own ids along).
        model_config = ConfigDict(extra="ignore")
        basket: Optional[list[ItemId]] = Field(None, max_length=cfg.max_basket, description="item ids of a basket")
        item: Optional[ItemId] = Field(None, description="one item id")
        text: Optional[str] = Field(None, min_length=1, max_length=cfg.max_text_chars,
                                    description="free text: a product description or a search query")
        user_id: Optional[ItemId] = Field(None, description="the transactions' user id, for personal answers")
        k: int = Field(10, ge=1, le=cfg.max_k)
        method: Optional[str] = Field(None, description="a ranker loaded by this server (see /readyz)")

        @model_validator(mode="after")
        def one_query(self) -> "RecommendRequest":
            given = [name for name in ("basket", "item", "text") if getattr(self, name) is not None]
            if len(given) != 1:
                raise ValueError('give exactly one of "basket": [item_id, ...], "item": item_id or "text": "..."'
                                 + (f" (got {', '.join(given)})" if given else ""))
            return self

    return RecommendRequest
