"""The personal section of compare's report: history strata, ratios, audiences."""

from __future__ import annotations

from typing import Any


def _f(value: Any) -> str:
    return "-" if value is None or value != value else f"{value:.4f}"


def personal_tables(r: Any) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) tables for graphassoc/evaluate/report.py; r is a CompareResult."""
    p = r.personal
    if "skipped" in p:
        return [("Personal rankers: skipped", ["why"], [[p["skipped"]]])]
    out = []
    for stratum in ("with_history", "no_history"):
        if stratum not in p:
            continue
        section = p[stratum]
        ratios = section["ratio_to_best_non_personal"]
        rows = [[name, _f(hr), _f(ratios.get(name)) if name in ratios else "-"] for name, hr in section["hr@10"].items()]
        size = p["queries_with_history" if stratum == "with_history" else "queries_without_history"]
        out.append((f"Stratum {stratum} ({size:,} queries; history = {p['history']}); "
                    f"best non-personal: {section['best_non_personal']}",
                    ["ranker", "HR@10", "ratio to best non-personal"], rows))
    aud = p.get("audience")
    if aud:
        out.append((f"Audiences: recall@{aud['n']} of each test item's buyers among {aud['candidate_customers']:,} customers "
                    f"with history ({_items(aud)}; repeat weight {aud['repeat_w']} tuned on valid)",
                    ["method", f"recall@{aud['n']}"], [[m, _f(v)] for m, v in aud["recall@n"].items()]))
    return out


def _items(aud: dict) -> str:
    bought = aud.get("items_bought", aud["items"])
    return f"{aud['items']:,} items" if bought == aud["items"] else f"a seeded sample of {aud['items']:,} of the {bought:,} items bought"
