"""TrainResult: what `train` returns, saving itself as metrics.jsonl, summary.json and curves.png."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphassoc.runs import write_json


@dataclass
class TrainResult:
    run_dir: Path
    name: str
    mode: str
    best_epoch: int
    best: dict[str, float]
    history: list[dict[str, Any]]
    seconds: float
    device: str
    peak_rss_mb: float
    extra: dict[str, Any] = field(default_factory=dict)

    out_dir: Path | None = None

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "mode": self.mode, "best_epoch": self.best_epoch, "valid": self.best,
                "epochs_run": len(self.history), "seconds": round(self.seconds, 1), "device": self.device,
                "peak_rss_mb": self.peak_rss_mb, **self.extra}

    def save(self, directory: Path) -> None:
        (directory / "metrics.jsonl").write_text("".join(json.dumps(h) + "\n" for h in self.history))
        write_json(directory / "summary.json", self.summary())
        plot_curves(self.history, directory / "curves.png")


def plot_curves(history: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(9, 3.2))
    epochs = [h["epoch"] for h in history]
    ax[0].plot(epochs, [h["loss"] for h in history], marker="o")
    ax[0].set(xlabel="epoch", ylabel="train loss (softmax CE)")
    for key in ("hr@10", "ndcg@10", "mrr"):
        ax[1].plot(epochs, [h[f"valid_{key}"] for h in history], marker="o", label=key)
    ax[1].set(xlabel="epoch", ylabel="validation")
    ax[1].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
