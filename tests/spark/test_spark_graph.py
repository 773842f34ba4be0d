"""The Spark pair counts give the single-machine graph, graph.top_k included (ties broken alike)."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from graphassoc.graph.config import GraphConfig
from graphassoc.graph.copurchase import build_copurchase


def _both_graphs(spark: object, item_lists: list[list[str]], cfg: GraphConfig) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(Spark's edges, the polars path's edges); the items are the baskets' and one never sold."""
    from graphassoc.spark.graph import copurchase_graph

    train, items = _tables(item_lists)
    spark_train = spark.createDataFrame([(b, list(i)) for b, i in zip(train["basket_id"], item_lists)],
                                        "basket_id string, items array<string>")
    ours = copurchase_graph(spark, items, spark_train, train.height, cfg)
    return ours.edges, build_copurchase(items, train, cfg).edges


def _tables(item_lists: list[list[str]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    train = pl.DataFrame({"basket_id": [f"b{n}" for n in range(len(item_lists))], "items": item_lists},
                         schema={"basket_id": pl.Utf8, "items": pl.List(pl.Utf8)})
    popularity = train.select(pl.col("items").list.unique()).explode("items")["items"].value_counts()
    items = (pl.DataFrame({"item_id": sorted({i for b in item_lists for i in b} | {"never-sold"})})
             .join(popularity.rename({"items": "item_id", "count": "popularity"}), on="item_id", how="left")
             .with_columns(pl.col("popularity").fill_null(0)))
    return train, items


def test_fixture_graph_with_top_k_equals_the_polars_path(spark: object) -> None:
    """The fixture at min_count 1 (many tied counts); without top_k the pipeline test compares the graphs."""
    from tests_spark_data import fixture_baskets

    baskets = fixture_baskets().to_list()
    ours, ref = _both_graphs(spark, baskets, GraphConfig(min_count=1, top_k=2))
    assert_frame_equal(ours, ref, check_exact=True)
    assert 0 < ref.height < build_copurchase(*reversed(_tables(baskets)), GraphConfig(min_count=1)).edges.height


def test_hand_made_ties(spark: object) -> None:
    """top_k=1 where counts tie: each end keeps the edge to the other end of lowest index."""
    baskets = [["a", "b"], ["a", "c"], ["a", "d"], ["e", "f"], ["e", "f"], ["e", "b"]]
    ours, ref = _both_graphs(spark, baskets, GraphConfig(min_count=1, top_k=1))
    assert_frame_equal(ours, ref, check_exact=True)
    # b's heaviest edges tie (a-b and b-e, once each): b keeps a (lower index); a keeps b; e keeps f
    assert list(zip(ref["src"], ref["dst"])) == [("a", "b"), ("a", "c"), ("a", "d"), ("e", "f")]
