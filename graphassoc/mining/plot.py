"""arulesViz-style scatter of the rules: support (x) vs confidence (y), coloured by lift."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from graphassoc.runs import atomic_file


def rules_plot(rules: pl.DataFrame, path: Path, title: str = "Association rules") -> Path:
    """Write the scatter as PNG (matplotlib Agg, no display needed); readable with 0 or 100k rules."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    path = Path(path)
    fig, ax = plt.subplots(figsize=(7, 5), dpi=120)
    try:
        if rules.height == 0:
            ax.text(0.5, 0.5, "no rules at these thresholds", ha="center", va="center", transform=ax.transAxes)
        else:
            # Highest lift drawn last (on top); small translucent markers and rasterising keep
            # 100k points legible and the file small.
            data = rules.select("support", "confidence", "lift").sort("lift")
            big = data.height > 5000
            lift = data["lift"].to_numpy()
            # Lift is heavy-tailed (a few rules of rare items reach 100+): a log scale keeps the rest apart.
            norm = LogNorm() if lift.min() > 0 and lift.max() / lift.min() > 20 else None
            points = ax.scatter(data["support"].to_numpy(), data["confidence"].to_numpy(), c=lift, norm=norm,
                                cmap="viridis", s=4 if big else 14, alpha=0.5 if big else 0.8, linewidths=0,
                                rasterized=True)
            fig.colorbar(points, ax=ax, label="lift")
            if data["support"].max() / max(data["support"].min(), 1e-12) > 50:
                ax.set_xscale("log")
        ax.set_xlabel("support")
        ax.set_ylabel("confidence")
        ax.set_title(f"{title} ({rules.height:,})")
        fig.tight_layout()
        with atomic_file(path) as tmp:  # keeps the .png suffix matplotlib reads the format from
            fig.savefig(tmp)
    finally:
        plt.close(fig)
    return path
