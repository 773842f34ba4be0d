"""The HTTP API on a real server: answers against brute-force references, limits, unknown ids, metrics."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import httpx
import polars as pl
import pytest
from conftest import METHOD


@pytest.fixture(scope="module")
def baskets(served_run: Path) -> pl.DataFrame:
    return pl.read_parquet(served_run / "baskets.parquet")


def _cooccurrence_reference(baskets: list[set[str]], query: list[str]) -> dict[str, float]:
    """sum over query items q of P(j | q), counted in plain Python (the co-occurrence ranker's definition)."""
    out: Counter[str] = Counter()
    for q in query:
        holding = [b for b in baskets if q in b]
        for b in holding:
            for j in b - {q}:
                out[j] += 1 / len(holding)
    return dict(out)


def test_recommend_basket_matches_brute_force_and_reports_unknown_ids(server: str, baskets: pl.DataFrame) -> None:
    evidence = [set(b) for b in baskets.filter(pl.col("split") != "test")["items"].to_list()]
    popular = [i for i, _ in Counter(i for b in evidence for i in b).most_common(3)]
    res = httpx.post(f"{server}/recommend", json={"basket": [popular[0], "NO-SUCH", popular[1]], "k": 5})
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["unknown"] == ["NO-SUCH"] and body["method"] == METHOD and "1 unknown" in body["message"]
    reference = _cooccurrence_reference(evidence, popular[:2])
    best = sorted((v for j, v in reference.items() if j not in popular[:2]), reverse=True)[:5]
    assert [it["score"] for it in body["items"]] == pytest.approx(best, rel=1e-4)
    for it in body["items"]:
        assert it["score"] == pytest.approx(reference[it["item_id"]], rel=1e-4)
        assert it["item_id"] not in popular[:2] and it["title"]
        assert it["evidence"]["ranker"] == METHOD and it["evidence"]["copurchase_count"] > 0


def test_item_query_equals_a_basket_of_one_and_numbers_are_ids(server: str, baskets: pl.DataFrame) -> None:
    numeric = next(i for b in baskets["items"].to_list() for i in b if i.isdigit())
    by_item = httpx.post(f"{server}/recommend", json={"item": int(numeric), "k": 4}).json()
    by_basket = httpx.post(f"{server}/recommend", json={"basket": [numeric], "k": 4}).json()
    related = httpx.get(f"{server}/related/{numeric}", params={"k": 4}).json()
    assert [i["item_id"] for i in by_item["items"]] == [i["item_id"] for i in by_basket["items"]]
    assert [i["item_id"] for i in related["items"]] == [i["item_id"] for i in by_item["items"]]
    assert len(by_item["items"]) == 4 and by_item["unknown"] == []


def test_unknown_ids_are_reported_never_a_500(server: str) -> None:
    res = httpx.post(f"{server}/recommend", json={"basket": ["NOPE-1", "NOPE-2"]})
    assert res.status_code == 200 and res.json()["items"] == [] and res.json()["unknown"] == ["NOPE-1", "NOPE-2"]
    assert "no known item" in res.json()["message"]
    for path in ("/related/NOPE", "/items/NOPE", "/rules?item=NOPE"):
        res = httpx.get(server + path)
        assert res.status_code == 404 and "unknown item id 'NOPE'" in res.json()["detail"], path


@pytest.mark.parametrize("body, where", [
    ({"basket": [str(i) for i in range(21)]}, "basket: .*at most 20.*serve.max_basket"),
    ({"item": "85123A", "k": 51}, "k: .*less than or equal to 50.*serve.max_k"),
    ({"item": "85123A", "k": 0}, "k: "),
    ({"text": "x" * 501}, "text: .*at most 500.*serve.max_text_chars"),
    ({"item": "85123A", "text": "lamp"}, "exactly one of .*got item, text"),
    ({"k": 3}, "exactly one of"),
    ({"basket": "85123A"}, "basket: "),
    ({"item": "85123A", "method": "ease"}, "method 'ease' is not loaded; loaded: cooccurrence"),
])
def test_limits_and_bad_bodies_are_422_with_one_clear_line(server: str, body: dict, where: str) -> None:
    res = httpx.post(f"{server}/recommend", json=body)
    assert res.status_code == 422
    detail = res.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and re.search(where, detail), detail


def test_not_json_is_422(server: str) -> None:
    res = httpx.post(f"{server}/recommend", content=b"{nope", headers={"Content-Type": "application/json"})
    assert res.status_code == 422 and "JSON" in res.json()["detail"]


def test_item_neighbourhood_counts_are_train_co_purchases(server: str, baskets: pl.DataFrame) -> None:
    train = [set(b) for b in baskets.filter(pl.col("split") == "train")["items"].to_list()]
    item = Counter(i for b in train for i in b).most_common(1)[0][0]
    body = httpx.get(f"{server}/items/{item}", params={"neighbours": 6}).json()
    pairs = Counter(j for b in train if item in b for j in b - {item})
    assert [n["count"] for n in body["neighbours"]] == [c for _, c in pairs.most_common(6)]
    for n in body["neighbours"]:
        assert pairs[n["item_id"]] == n["count"]
    ids = {n["item_id"] for n in body["neighbours"]}
    for a, b, count in body["edges"]:
        assert {a, b} <= ids and count == sum(1 for bk in train if a in bk and b in bk)
    assert body["popularity"] == sum(1 for b in train if item in b) and body["new"] is False


def test_rules_filter_and_sort(server: str, served_run: Path) -> None:
    rules = pl.read_parquet(served_run / "rules.parquet")
    item = Counter(i for a in rules["antecedents"].to_list() for i in a).most_common(1)[0][0]
    mentioning = [r for r in rules.iter_rows(named=True)
                  if (item in r["antecedents"] or item in r["consequents"]) and r["confidence"] >= 0.3]
    body = httpx.get(f"{server}/rules", params={"item": item, "min_confidence": 0.3, "sort": "confidence",
                                               "descending": False, "limit": 7}).json()
    assert body["total"] == len(mentioning)
    got = [r["confidence"] for r in body["rules"]]
    assert got == sorted(got) and got == pytest.approx(sorted(r["confidence"] for r in mentioning)[:7])
    assert all(item in r["antecedents"] + r["consequents"] for r in body["rules"])
    res = httpx.get(f"{server}/rules", params={"sort": "nonsense"})
    assert res.status_code == 422 and "sort" in res.json()["detail"]


def test_search_returns_catalogue_items(server: str) -> None:
    body = httpx.get(f"{server}/search", params={"q": "red retrospot lunch bag", "k": 5}).json()
    assert len(body["items"]) == 5 and all(i["title"] for i in body["items"])
    assert all(i["evidence"]["text_similarity"] is not None for i in body["items"])
    assert httpx.get(f"{server}/search", params={"q": "   "}).status_code == 422


def test_health_ready_openapi_and_metrics(server: str) -> None:
    assert httpx.get(f"{server}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{server}/readyz").json()
    assert ready["status"] == "ready" and ready["methods"] == [METHOD] and ready["items"] > 1000
    schema = httpx.get(f"{server}/openapi.json").json()
    assert {"/recommend", "/related/{item_id}", "/search", "/rules", "/items/{item_id}", "/reload"} <= set(schema["paths"])
    body = schema["components"]["schemas"]["RecommendRequest"]["properties"]
    assert body["k"]["maximum"] == 50

    def count(text: str) -> float:
        line = re.search(r'graphassoc_requests_total\{method="POST",route="/recommend",status="200"\} (\S+)', text)
        return float(line.group(1)) if line else 0.0

    before = count(httpx.get(f"{server}/metrics").text)
    for _ in range(3):
        httpx.post(f"{server}/recommend", json={"item": "NOPE"})
    text = httpx.get(f"{server}/metrics").text
    assert count(text) == before + 3
    assert 'graphassoc_request_seconds_bucket{le="0.025",route="/recommend"}' in text
    assert f'graphassoc_model_info{{method="{METHOD}",run=' in text and f'version="{ready["version"]}"' in text
    assert httpx.get(f"{server}/").text.startswith("<!doctype html>")
