"""Rankers behind one interface (`fit(ctx)`, `score(queries)`), one module per family, and their config.

Public: RANKERS (the registry, `graphassoc ls rankers`), Ranker, RankerUnavailable, RankContext,
RankersConfig; the families live in counts.py, rules.py, ease.py, text.py, model.py, hybrid.py.
`graphassoc evaluate` (compare) and `graphassoc recommend` both fit rankers from here, with the
settings of the `rankers` config section. Imported lazily: graphassoc.config imports
graphassoc.rankers.config, and that must not load scipy.
"""

from __future__ import annotations

from typing import Any

_PUBLIC = {"RANKERS": "graphassoc.rankers.base", "Ranker": "graphassoc.rankers.base",
           "RankerUnavailable": "graphassoc.rankers.base", "RankContext": "graphassoc.rankers.context",
           "RankersConfig": "graphassoc.rankers.config"}


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        import importlib

        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(name)


__all__ = list(_PUBLIC)
