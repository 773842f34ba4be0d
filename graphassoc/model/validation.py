"""Validation after each epoch: the new-item scoring set on validation (the tower in or out, and the
new-item offset), then the protocol's metrics with it."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from graphassoc.evaluate.metrics import per_query
from graphassoc.evaluate.protocol import evaluate
from graphassoc.model.calibrate import NewItemCalibration, calibrate_new_items
from graphassoc.model.evidence import Evidence
from graphassoc.model.finetune import autocast
from graphassoc.model.net import HybridNet, bag

# Scores held at once while validating: (queries x catalogue) float64 blocks of about this many entries.
SCORE_BLOCK = 1 << 23


def score_block_rows(n_items: int) -> int:
    return int(max(16, min(1024, SCORE_BLOCK // max(1, n_items))))


def validate(net: HybridNet, text: torch.Tensor | None, ev: Evidence, data: Any, pos: np.ndarray,
             target: float | None, device: torch.device) -> tuple[dict[str, Any], NewItemCalibration]:
    """Set the new-item scoring on validation, then leave-one-out metrics on valid baskets with it.

    The offset is swept with the tower on and with it off (TowerTerm.on); the pair kept is the better
    by the calibration's own rule (the never-seen target met first, then the overall HR@10; the tower
    stays on where both are equal). Full catalogue in blocks of queries, query items excluded (the
    compare protocol). `select` is what early stopping compares (with whether the offset reached
    train.new_item_hr): the overall HR@10 of the chosen setting over all calibration draws.
    """
    net.eval()
    net.new_offset.zero_()
    rows = score_block_rows(ev.n_items)
    with torch.no_grad(), autocast(device):
        h = net.item_vectors(text, ev)

        def score(batch: list[np.ndarray]) -> np.ndarray:
            flat, offsets = bag(batch, device)
            with torch.no_grad(), autocast(device):  # per call: evaluate scores blocks on threads, and both are thread-local
                return net.score(h, flat, offsets, ev).float().cpu().numpy()

        new = (~ev.seen).cpu().numpy()
        swept = []
        for on in (True, False):
            net.tower.on.fill_(float(on))
            swept.append(calibrate_new_items(score, new, data.calibration, pos, target, chunk=rows, tower_on=on))
        cal = max(swept, key=lambda c: (c.target_met, c.hr10[c.offsets.index(c.chosen)], c.tower_on))
        net.tower.on.fill_(float(cal.tower_on))
        net.new_offset.fill_(cal.chosen)
        ranking = evaluate(score, data.valid, pos, chunk=rows)
    net.train()
    m = per_query(ranking.ranks)
    out: dict[str, Any] = {k: round(float(m[k].mean()), 5) for k in ("hr@10", "ndcg@10", "mrr", "hr@20")}
    never_seen = new[data.valid.target]
    out["hr@10_never_seen"] = round(float(m["hr@10"][never_seen].mean()), 5) if never_seen.any() else None
    k = cal.offsets.index(cal.chosen)
    out.update({"new_item_offset": cal.chosen, "tower_on": cal.tower_on, "select": cal.hr10[k],
                "select_never_seen": cal.hr10_never_seen[k], "new_item_target_met": cal.target_met})
    return out, cal
