"""Frequent itemsets and association rules, exactly as mlxtend computes them, fast (see engines.py)."""

from graphassoc.mining.stage import MiningResult, mine
from graphassoc.mining.plot import rules_plot

__all__ = ["MiningResult", "mine", "rules_plot"]
