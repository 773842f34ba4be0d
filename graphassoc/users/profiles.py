"""User profiles from the TRAIN window: users.parquet keyed by a salted hash of the user id.

Per customer: baskets, distinct items, repeat rate (share of their basket lines holding an item
they had bought in an earlier basket), top items and categories, recency, a segment and an
embedding (the mean item vector of the model's item side over their items; the frozen text
embeddings when no model is trained). The raw id never enters users.parquet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from graphassoc.errors import DataError
from graphassoc.runs import Run, write_parquet
from graphassoc.users.config import UsersConfig
from graphassoc.users.ids import hash_user, run_salt

USERS_FILE = "users.parquet"


@dataclass
class Profiles:
    table: pl.DataFrame  # one row per customer, key = user_key
    embedding_source: str

    def save(self, run_dir: Path) -> None:
        write_parquet(Path(run_dir) / USERS_FILE, self.table)


def train_baskets_with_users(run: Run) -> pl.DataFrame:
    baskets = run.baskets()
    if "user_id" not in baskets.columns or baskets["user_id"].null_count() == baskets.height:
        raise DataError(f"run '{run.path}' has no user ids (baskets.parquet's user_id is empty); rebuild it from "
                        "transactions with a user column (data.columns.user_id=NAME, or a preset that maps one)")
    return baskets.filter(pl.col("split") == "train", pl.col("user_id").is_not_null())


def _segment(baskets: int, recency: float | None, cfg: UsersConfig) -> str:
    if recency is not None and recency > cfg.lapsed_days:
        return "lapsed"
    if baskets == 1:
        return "one-off"
    if recency is not None and recency <= cfg.active_days and baskets >= 5:
        return "loyal"
    return "regular"


def _embeddings(run: Run) -> tuple[np.ndarray | None, str]:
    try:
        from graphassoc.model import load_model
        from graphassoc.rankers.model import text_modes

        modes = text_modes(run.path)
        if modes:
            return np.asarray(load_model(run.path, modes[0]).item_vectors(), dtype=np.float32), f"model-{modes[0]} item vectors"
    except Exception:  # noqa: BLE001 - a model that cannot load: fall back to text, say so in the source
        pass
    cached = sorted((run.path / "text").glob("embeddings-*.npy")) if (run.path / "text").is_dir() else []
    if cached:
        return np.load(cached[0]).astype(np.float32), "frozen text embeddings"
    return None, "none (no model and no cached text embeddings in the run)"


def build_profiles(run_dir: Path, cfg: UsersConfig | None = None) -> Profiles:
    """Every customer of the train window; see the module docstring."""
    cfg = cfg or UsersConfig()
    run = Run(run_dir, "baskets.parquet", "items.parquet")
    baskets = train_baskets_with_users(run)
    items = run.items()
    salt = run_salt(run.path)
    end = baskets["timestamp"].max()
    lines = (baskets.sort("timestamp").with_columns(pl.int_range(pl.len()).over("user_id").alias("nth"))
             .explode("items").rename({"items": "item_id"}))
    first_seen = lines.group_by("user_id", "item_id").agg(pl.col("nth").min().alias("first"))
    lines = lines.join(first_seen, on=["user_id", "item_id"]).with_columns((pl.col("nth") > pl.col("first")).alias("repeat"))
    lines = lines.join(items.select("item_id", "category"), on="item_id", how="left")
    top = cfg.profile_top
    per_user = lines.group_by("user_id").agg(
        pl.col("basket_id").n_unique().alias("baskets"), pl.col("item_id").n_unique().alias("distinct_items"),
        pl.col("repeat").mean().alias("repeat_rate"), pl.col("timestamp").min().alias("first_basket"),
        pl.col("timestamp").max().alias("last_basket"),
        pl.col("item_id").value_counts(sort=True).head(top).struct.field("item_id").alias("top_items"),
        pl.col("category").drop_nulls().value_counts(sort=True).head(top).struct.field("category").alias("top_categories"),
    ).with_columns(((pl.lit(end) - pl.col("last_basket")).dt.total_hours() / 24).alias("recency_days")).sort("user_id")
    vectors, source = _embeddings(run)
    segments = [_segment(b, r, cfg) for b, r in zip(per_user["baskets"].to_list(), per_user["recency_days"].to_list())]
    table = per_user.with_columns(pl.Series("segment", segments, dtype=pl.Utf8),
                                  _user_vectors(vectors, items, lines, per_user["user_id"]))
    table = table.with_columns(
        pl.col("user_id").map_elements(lambda u: hash_user(salt, u), return_dtype=pl.Utf8).alias("user_key")).drop("user_id")
    return Profiles(table.select("user_key", pl.exclude("user_key")), source)


def _user_vectors(vectors: np.ndarray | None, items: pl.DataFrame, lines: pl.DataFrame, users: pl.Series) -> pl.Series:
    """Mean item vector over each customer's basket lines: a sparse users x items product, never dense."""
    if vectors is None:
        return pl.Series("embedding", [None] * len(users), dtype=pl.List(pl.Float32))
    import scipy.sparse as sp

    item_pos = pl.DataFrame({"item_id": items["item_id"], "col": np.arange(items.height)})
    user_pos = pl.DataFrame({"user_id": users, "row": np.arange(len(users))})
    pairs = lines.select("user_id", "item_id").join(item_pos, on="item_id").join(user_pos, on="user_id")
    counts = sp.csr_matrix((np.ones(pairs.height, dtype=np.float32), (pairs["row"].to_numpy(), pairs["col"].to_numpy())),
                           shape=(len(users), items.height))
    mean = np.asarray(counts @ vectors) / np.maximum(np.asarray(counts.sum(axis=1)), 1.0)
    return pl.Series("embedding", mean.astype(np.float32).tolist(), dtype=pl.List(pl.Float32))


def profile_of(run_dir: Path, user_id: str, cfg: UsersConfig | None = None) -> dict[str, Any]:
    """One customer's profile; builds users.parquet once (after checking the user exists)."""
    run = Run(run_dir, "baskets.parquet", "items.parquet")
    baskets = train_baskets_with_users(run)
    user_id = str(user_id).strip()
    if baskets.filter(pl.col("user_id") == user_id).height == 0:
        anywhere = run.baskets().filter(pl.col("user_id") == user_id).height > 0
        raise DataError(f"user '{user_id}' has no train baskets in {run.path}"
                        + ("; they only buy after the train window, so there is no profile yet" if anywhere else
                           "; check the id (UCI CustomerID 17850.0 is '17850')"))
    path = run.path / USERS_FILE
    if not path.is_file():
        build_profiles(run.path, cfg).save(run.path)
    key = hash_user(run_salt(run.path), user_id)
    row = pl.read_parquet(path).filter(pl.col("user_key") == key)
    if row.height == 0:
        raise DataError(f"users.parquet of {run.path} predates user '{user_id}'; delete it to rebuild the profiles")
    out = row.row(0, named=True)
    out["embedding_dim"] = len(out.pop("embedding") or [])
    return out
