"""RankContext moved to graphassoc/rankers/context.py; this old import path re-exports it for code
written against it. Delete this file once `grep -r recommend.context` finds nothing."""

from graphassoc.rankers.context import EVIDENCE, RankContext

__all__ = ["EVIDENCE", "RankContext"]
