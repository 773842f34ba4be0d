"""Config of training the hybrid model."""

from __future__ import annotations

from graphassoc.data.config import StrictModel


class TrainConfig(StrictModel):
    pass
