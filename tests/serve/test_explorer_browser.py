"""The explorer page in a real headless chromium (Debian's, driven by Playwright through its executable
path): search, an item's related products and neighbourhood, the basket builder, the rules table.
Screenshots go to the test's tmp dir; any request leaving the loopback server fails the test."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest
from conftest import METHOD

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = os.environ.get("GRAPHASSOC_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium executable (apt-get install chromium)")


@pytest.fixture(scope="module")
def page(server: str) -> Iterator:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        outside: list[str] = []
        errors: list[str] = []

        def only_loopback(route) -> None:
            if route.request.url.startswith(server):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_loopback)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.goto(server + "/")
        page.wait_for_selector("body[data-ready='1']", timeout=60_000)
        yield page
        assert outside == [], f"the page reached outside the server: {outside}"
        assert errors == [], f"errors in the page: {errors}"
        browser.close()


def test_search_then_an_item_with_evidence_and_its_neighbourhood(page, server: str, tmp_path: Path) -> None:
    assert METHOD in page.inner_text("#status")
    page.fill("#search-input", "white hanging heart")
    page.click("#search-form button[type=submit]")
    page.wait_for_selector("#search-results li a.item")
    assert page.locator("#search-results li").count() == 10
    page.screenshot(path=str(tmp_path / "search.png"), full_page=True)

    import httpx

    item = "85123A"
    info = httpx.get(f"{server}/items/{item}").json()
    related = httpx.get(f"{server}/related/{item}", params={"k": 10}).json()
    page.evaluate(f"openItem({item!r})")
    page.wait_for_function(f"document.querySelector('#item-title').textContent.includes({item!r})")
    rows = page.locator("#related-table tbody tr")
    assert rows.count() == len(related["items"]) == 10
    shown = [rows.nth(i).locator("td").nth(1).inner_text() for i in range(rows.count())]
    assert shown == [it["item_id"] for it in related["items"]]
    first = related["items"][0]["evidence"]
    assert rows.nth(0).locator("td").nth(7).inner_text() == str(first["copurchase_count"])
    assert page.locator("#graph circle").count() == len(info["neighbours"]) + 1
    assert page.locator("#graph line").count() == len(info["neighbours"]) + len(info["edges"])
    page.screenshot(path=str(tmp_path / "item.png"), full_page=True)

    page.locator("#graph circle").nth(1).click()  # a neighbour opens as the new item
    neighbour = info["neighbours"][0]["item_id"]
    page.wait_for_function(f"document.querySelector('#item-title').textContent.includes({neighbour!r})")


def test_basket_builder_shows_live_recommendations_and_unknown_ids(page, server: str, tmp_path: Path) -> None:
    import httpx

    basket = ["85123A", "22423"]
    for item in basket + ["NOT-AN-ITEM"]:
        page.fill("#basket-input", item)
        page.click("#basket-form button[type=submit]")
    page.wait_for_selector("#basket-unknown:not([hidden])")
    assert "NOT-AN-ITEM" in page.inner_text("#basket-unknown")
    expected = httpx.post(f"{server}/recommend", json={"basket": basket, "k": 10}).json()["items"]
    links = page.locator("#basket-recs li a.item")
    links.first.wait_for()
    assert [links.nth(i).get_attribute("data-item") for i in range(links.count())] == [i["item_id"] for i in expected]
    page.screenshot(path=str(tmp_path / "basket.png"), full_page=True)
    page.click("#basket-clear")
    page.wait_for_function("document.querySelectorAll('#basket-recs li').length === 0")


def test_rules_table_sorts_and_filters(page, tmp_path: Path) -> None:
    page.click("#rules-all")
    page.wait_for_function("document.querySelector('#rules-scope').textContent === '(all)'")

    def column(index: int) -> list[float]:
        cells = page.locator("#rules-table tbody tr").evaluate_all(
            f"rows => rows.map(r => r.children[{index}].textContent)")
        return [float(c) for c in cells]

    page.click("#rules-table th[data-sort=confidence]")
    page.wait_for_selector("#rules-table th.sorted.desc[data-sort=confidence]")
    # The table is redrawn when the answer arrives: wait until it holds rows ordered by confidence.
    page.wait_for_function("(() => { const v = [...document.querySelectorAll('#rules-table tbody tr td:nth-child(4)')]"
                           ".map(td => Number(td.textContent)); return v.length > 0 && v.every((x, i) => i === 0 || v[i - 1] >= x); })()")
    desc = column(3)
    assert desc == sorted(desc, reverse=True) and len(desc) == 50
    page.click("#rules-table th[data-sort=confidence]")  # second click: ascending
    page.wait_for_selector("#rules-table th.sorted.asc[data-sort=confidence]")
    page.wait_for_function(f"Number(document.querySelector('#rules-table tbody tr td:nth-child(4)').textContent) <= {desc[-1]}")
    asc = column(3)
    assert asc == sorted(asc)
    page.fill("#min-lift", "10")
    page.dispatch_event("#min-lift", "change")
    page.wait_for_function("[...document.querySelectorAll('#rules-table tbody tr td:nth-child(5)')].every(td => Number(td.textContent) >= 10)")
    assert all(v >= 10 for v in column(4))
    page.screenshot(path=str(tmp_path / "rules.png"), full_page=True)
