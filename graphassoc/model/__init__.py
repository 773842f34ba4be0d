"""The hybrid model: text encoder + GNN + closed-form co-occurrence term (`graphassoc train`).

Public: train(run_dir, cfg, progress) -> TrainResult, load_model(run_dir, mode) -> TrainedModel,
tune(run_dir, cfg, space, trials) -> TuneResult. Imported lazily: graphassoc.config imports
graphassoc.model.config, and that must not load torch.
"""

from __future__ import annotations

from typing import Any

_PUBLIC = {"train": "graphassoc.model.training", "TrainResult": "graphassoc.model.training",
           "load_model": "graphassoc.model.load", "TrainedModel": "graphassoc.model.load",
           "tune": "graphassoc.model.tuning", "TuneResult": "graphassoc.model.tuning"}


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        import importlib

        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(name)


__all__ = list(_PUBLIC)
