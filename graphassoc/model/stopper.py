"""Early stopping on validation (PyKEEN's EarlyStopper shape): keep the best epoch by checkpoint.rank_key,
stop after train.patience epochs without a better one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphassoc.model.checkpoint import rank_key


@dataclass
class Stopper:
    patience: int
    best: dict[str, Any] | None = None
    best_epoch: int = 0
    bad_epochs: int = 0

    @property
    def should_stop(self) -> bool:
        return self.bad_epochs >= self.patience

    def report(self, epoch: int, metrics: dict[str, Any]) -> bool:
        """Record an epoch's validation metrics; True when it is the best so far."""
        if self.best is None or rank_key(metrics) > rank_key(self.best):
            self.best, self.best_epoch, self.bad_epochs = metrics, epoch, 0
            return True
        self.bad_epochs += 1
        return False

    def state(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch, "bad_epochs": self.bad_epochs}

    def load(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch, self.bad_epochs = state["best"], state["best_epoch"], state["bad_epochs"]
