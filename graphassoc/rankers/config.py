"""Config of the rankers (`graphassoc ls rankers`): what each ranker is fitted with.

`graphassoc compare` and `graphassoc recommend` read these same settings, so a ranker scores a
query the same way in both. Which rankers compare runs, its seed and its tuning metric stay in
`evaluate` (the protocol); until this section existed these keys lived there too, and
`upgrade_keys` still reads them from the old place.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

from pydantic import Field

from graphassoc.data.config import StrictModel


class RankersConfig(StrictModel):
    # EASE's lambda grid; the best value on validation (evaluate.tune_metric) is used.
    ease_lambdas: list[float] = Field(default_factory=lambda: [25.0, 50.0, 100.0, 250.0, 500.0, 1000.0])
    # Rules re-mined for the ranker's evidence; the defaults are the reference settings of
    # ../shared/data/README.md (fpgrowth 0.005, max_len 3, conf >= 0.05, max confidence).
    rules_min_support: float = Field(default=0.005, gt=0.0, le=1.0)
    rules_min_confidence: float = Field(default=0.05, ge=0.0, le=1.0)
    rules_max_len: int = Field(default=3, ge=2)
    rules_order: Literal["confidence", "lift"] = "confidence"
    # Hybrid: the co-occurrence side ("ease" or "cooccurrence") and the model side ("auto" = the best
    # trained model mode on validation, else the frozen text encoder).
    hybrid_evidence: Literal["ease", "cooccurrence"] = "ease"
    hybrid_model: str = "auto"
    # The text ranker holds every cosine (n x n float32) up to this many items; above, it scores from
    # each item's `text_neighbours` nearest items (an HNSW index at size, text.neighbours).
    text_exact_max_items: int = Field(default=10_000, ge=1)
    text_neighbours: int = Field(default=200, ge=10)
    # Where the text encoder runs for the text ranker and free-text queries.
    device: str = "cpu"


MOVED_FROM_EVALUATE = tuple(RankersConfig.model_fields)


def upgrade_keys(tree: dict[str, Any], where: str) -> dict[str, Any]:
    """One config layer with the rankers' keys moved from `evaluate` to `rankers`, with one warning
    line per layer that used the old place. A run directory written before the move (its
    config.yaml) is read the same way, silently (where=""): the user never typed those keys."""
    evaluate = tree.get("evaluate")
    if not isinstance(evaluate, dict) or not any(key in evaluate for key in MOVED_FROM_EVALUATE):
        return tree
    moved = [key for key in MOVED_FROM_EVALUATE if key in evaluate]
    rankers = dict(tree.get("rankers") or {})
    rankers.update({key: evaluate[key] for key in moved if key not in rankers})  # the new place wins
    out = {**tree, "evaluate": {k: v for k, v in evaluate.items() if k not in moved}, "rankers": rankers}
    if where:
        warnings.warn(f"{where}: evaluate.{moved[0]}{' and more' if len(moved) > 1 else ''} moved to "
                      f"rankers.{moved[0]}; write rankers.<key> (the old place is read until the next release)",
                      FutureWarning, stacklevel=3)
    return out


def upgrade_override(key: str) -> str:
    """A `--set evaluate.<rankers key>=...` under its new name (the same warning as upgrade_keys)."""
    section, _, name = key.partition(".")
    if section != "evaluate" or name.split(".")[0] not in MOVED_FROM_EVALUATE:
        return key
    warnings.warn(f"--set {key}: moved to rankers.{name}; write --set rankers.{name}=... "
                  "(the old name is read until the next release)", FutureWarning, stacklevel=3)
    return f"rankers.{name}"
