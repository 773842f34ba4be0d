"""Co-stocking groups: Louvain communities (networkx) of the co-purchase graph.

Edges seen together in at least `groups_min_count` train baskets, weighted by that count; the
resolution comes from config (higher: more, smaller groups); the seed is the run's. Per group:
size, top items, revenue share (median price x train baskets holding the item: a proxy, baskets.parquet
keeps no quantities), and slow movers tied to fast movers: a rarely bought item (bottom quartile of
train popularity) whose strongest co-purchase partner is a best seller (top quartile), the pairing
a merchandiser can place together.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from graphassoc.runs import Run, atomic_dir, first_seed, write_json, write_parquet
from graphassoc.users.config import UsersConfig


@dataclass
class GroupsResult:
    members: pl.DataFrame  # item_id, title, group, popularity, revenue, role
    groups: pl.DataFrame  # group, size, revenue_share, top_items, slow_movers
    settings: dict[str, Any]

    def save(self, directory: Path) -> None:
        write_parquet(directory / "members.parquet", self.members)
        write_parquet(directory / "groups.parquet", self.groups)
        write_json(directory / "settings.json", self.settings)
        groups_plot(self.groups, directory / "groups.png")


def _communities(edges: pl.DataFrame, cfg: UsersConfig, seed: int) -> list[set[int]]:
    import networkx as nx

    strong = edges.filter(pl.col("count") >= cfg.groups_min_count)
    graph = nx.Graph()
    graph.add_weighted_edges_from(zip(strong["src_idx"].to_list(), strong["dst_idx"].to_list(),
                                      strong["count"].to_list()))
    return nx.community.louvain_communities(graph, weight="weight", resolution=cfg.groups_resolution, seed=seed)


def build_groups(run_dir: Path, cfg: UsersConfig | None = None) -> GroupsResult:
    cfg = cfg or UsersConfig()
    run = Run(run_dir, "items.parquet", "graph/edges.parquet")
    items, edges = run.items(), run.edges()
    seed = first_seed(run.config.seed)
    communities = sorted(_communities(edges, cfg, seed), key=len, reverse=True)
    group = np.full(items.height, -1, dtype=np.int64)
    for g, nodes in enumerate(communities):
        group[list(nodes)] = g
    pop = items["popularity"].to_numpy().astype(np.float64)
    price = items["price"].fill_null(0.0).to_numpy()
    revenue = price * pop
    sold = pop[pop > 0]
    slow_at, fast_at = (np.quantile(sold, 0.25), np.quantile(sold, 0.75)) if len(sold) else (0.0, 0.0)
    partner = _strongest_partner(edges, items.height)
    role = np.where(pop >= fast_at, "fast", np.where(pop <= slow_at, "slow", "steady"))
    members = items.select("item_id", "title").with_columns(
        pl.Series("group", group), pl.Series("popularity", pop.astype(np.int64)), pl.Series("revenue", revenue.round(2)),
        pl.Series("role", role), pl.Series("partner_id", [items["item_id"][int(p)] if p >= 0 else None for p in partner]),
    ).filter(pl.col("group") >= 0)
    total = max(float(revenue.sum()), 1e-9)
    rows = []
    for g in range(len(communities)):
        part = members.filter(pl.col("group") == g).sort("popularity", descending=True)
        fast = set(part.filter(pl.col("role") == "fast")["item_id"].to_list())
        slow = part.filter(pl.col("role") == "slow", pl.col("partner_id").is_in(list(fast)))
        rows.append({"group": g, "size": part.height, "revenue_share": round(float(part["revenue"].sum()) / total, 4),
                     "top_items": part["title"].head(cfg.profile_top).to_list(),
                     "slow_movers": [f"{s} -> {f}" for s, f in zip(slow["item_id"].head(5), slow["partner_id"].head(5))]})
    settings = {"resolution": cfg.groups_resolution, "min_count": cfg.groups_min_count, "seed": seed,
                "groups": len(communities), "items_in_groups": members.height,
                "revenue": "median price x train baskets holding the item (quantities are not kept)",
                "slow": f"train popularity <= {slow_at:g}", "fast": f"train popularity >= {fast_at:g}"}
    return GroupsResult(members, pl.DataFrame(rows), settings)


def _strongest_partner(edges: pl.DataFrame, n_items: int) -> np.ndarray:
    """Per item, the neighbour it was bought with most often (-1 for none)."""
    both = pl.concat([edges.select(pl.col("src_idx").alias("a"), pl.col("dst_idx").alias("b"), "count"),
                      edges.select(pl.col("dst_idx").alias("a"), pl.col("src_idx").alias("b"), "count")])
    best = both.sort(["count", "b"], descending=[True, False]).group_by("a").first()
    out = np.full(n_items, -1, dtype=np.int64)
    out[best["a"].to_numpy()] = best["b"].to_numpy()
    return out


def groups_plot(groups: pl.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    top = groups.head(20)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ax.bar([str(g) for g in top["group"]], top["size"], color="#4C72B0", label="items")
    ax.set_xlabel("group (largest first)")
    ax.set_ylabel("items")
    twin = ax.twinx()
    twin.plot([str(g) for g in top["group"]], top["revenue_share"], "o-", color="#DD8452", label="revenue share")
    twin.set_ylabel("revenue share (proxy)")
    ax.set_title("Co-stocking groups (Louvain on the co-purchase graph)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_groups(run_dir: Path, cfg: UsersConfig | None = None, overwrite: bool = False) -> GroupsResult:
    """build_groups, saved atomically to RUN/groups/."""
    result = build_groups(run_dir, cfg)
    with atomic_dir(Path(run_dir) / "groups", overwrite=overwrite) as tmp:
        result.save(tmp)
    return result
