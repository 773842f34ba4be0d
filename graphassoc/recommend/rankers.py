"""The rankers moved to graphassoc/rankers/ (one module per family); this old import path re-exports
them for code written against it (e.g. branches started before the move). Import from
graphassoc.rankers.* in new code; delete this file once `grep -r recommend.rankers` finds nothing."""

from graphassoc.rankers.base import RANKERS, Ranker, RankerUnavailable, context_gram, densify, ease_config, validation_score
from graphassoc.rankers.counts import CooccurrenceRanker, PopularityRanker
from graphassoc.rankers.ease import EaseRanker
from graphassoc.rankers.hybrid import HybridRanker, gate, zscore
from graphassoc.rankers.model import AnyModelRanker, GnnNoTextRanker, ModelRanker, pick_model_ranker, text_modes
from graphassoc.rankers.rules import RulesRanker, incidence, mine_rules
from graphassoc.rankers.text import TextRanker, item_embeddings, neighbour_lists
from graphassoc.runs import trained_modes as model_modes

__all__ = ["RANKERS", "AnyModelRanker", "CooccurrenceRanker", "EaseRanker", "GnnNoTextRanker", "HybridRanker",
           "ModelRanker", "PopularityRanker", "Ranker", "RankerUnavailable", "RulesRanker", "TextRanker", "context_gram",
           "densify", "ease_config", "gate", "incidence", "item_embeddings", "mine_rules", "model_modes",
           "neighbour_lists", "pick_model_ranker", "text_modes", "validation_score", "zscore"]
