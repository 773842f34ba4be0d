"""drift.json rendered for people: report.md and a self-contained report.html (finding first, then tables)."""

from __future__ import annotations

import html
from typing import Any


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def _num(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def finding(d: dict[str, Any]) -> str:
    """The report in one sentence."""
    hr_new, hr_own = d["old_model"]["new_period"]["hr@10"], (d["old_model"]["own_test_period"] or {}).get("hr@10")
    model = f"the old model's HR@10 is {_num(hr_new)} on the new period" + (
        f" vs {_num(hr_own)} on its own test period" if hr_own is not None else "")
    state = f"{len(d['alerts'])} alert(s)" if d["alerts"] else "no alert"
    return (f"{state}: {_pct(d['rules']['vanished_share'])} of the old rules vanished and "
            f"{_pct(d['rules']['appeared_share'])} of the new ones are new; {d['products']['new_items']} new products "
            f"make {_pct(d['products']['new_item_share'])} of the items sold; {model}.")


def _tables(d: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    r, b, p, q, m = d["rules"], d["baskets"], d["products"], d["quality"], d["old_model"]
    own = m["own_test_period"] or {}
    tables = [
        ("Summary", ["measure", "old", "new"], [
            ["rules", str(r["old"]), str(r["new"])],
            ["rules appeared / vanished", "", f"{r['appeared']} / {r['vanished']}"],
            ["median |lift shift| (common rules)", "", _num(r["median_abs_lift_shift"])],
            ["median |confidence shift|", "", _num(r["median_abs_confidence_shift"])],
            ["baskets", str(b["old"]["baskets"]), str(b["new"]["baskets"])],
            ["mean / median / p90 basket size", f"{b['old']['mean_size']:.2f} / {b['old']['median_size']:.0f} / {b['old']['p90_size']:.0f}",
             f"{b['new']['mean_size']:.2f} / {b['new']['median_size']:.0f} / {b['new']['p90_size']:.0f}"],
            ["single-item baskets", _pct(b["old"]["single_item_share"]), _pct(b["new"]["single_item_share"])],
            ["baskets holding a new product", "", _pct(b["baskets_with_new_items"])],
            ["lines dropped by cleaning", _pct(q["dropped_share_old"]), _pct(q["dropped_share_new"])],
            [f"old model ({m['new_period']['method']}) HR@10", _num(own.get("hr@10")), _num(m["new_period"]["hr@10"])],
            ["old model HR@10, targets it knows", _num(own.get("hr@10_known_targets")), _num(m["new_period"]["hr@10_known_targets"])],
            ["queries / hidden items unknown to the old run", str(own.get("queries", "-")),
             f"{m['new_period']['queries']} / {m['new_period']['unknown_targets']}"],
        ]),
        ("New products and how they sell", ["item", "title", "baskets", "share of baskets", "sales rank"],
         [[x["item_id"], x["title"], str(x["baskets"]), _pct(x["basket_share"]), str(x["rank"])] for x in p["top"]]),
        ("Largest lift shifts (rules in both)", ["rule", "lift before", "lift now", "confidence before", "confidence now"],
         [[x["rule"], _num(x["lift_before"], 2), _num(x["lift"], 2), _num(x["confidence_before"]), _num(x["confidence"])]
          for x in r["top_lift_shifts"]]),
        ("Rules that appeared (by support)", ["rule", "support", "confidence", "lift"],
         [[x["rule"], _num(x["support"], 4), _num(x["confidence"]), _num(x["lift"], 2)] for x in r["top_appeared"]]),
        ("Rules that vanished (by old support)", ["rule", "support", "confidence", "lift"],
         [[x["rule"], _num(x["support"], 4), _num(x["confidence"]), _num(x["lift"], 2)] for x in r["top_vanished"]]),
        ("Data quality: lines dropped per cleaning step", ["step", "old", "new", "shift"],
         [[s["reason"], _pct(s["old"]), _pct(s["new"]), f"{s['shift']:+.2%}"] for s in q["steps"]]),
    ]
    return tables


def render_markdown(d: dict[str, Any]) -> str:
    lines = [f"# Drift: {d['old_run']} -> {d['new_run']}", "", finding(d), ""]
    if d["alerts"]:
        lines += ["## Alerts", "", *[f"- {a}" for a in d["alerts"]], ""]
    for title, head, rows in _tables(d):
        lines += [f"## {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows] or ["(none)"]
        lines.append("")
    return "\n".join(lines)


def render_html(d: dict[str, Any]) -> str:
    esc = html.escape
    parts = [f"<h1>Drift: {esc(d['old_run'])} &rarr; {esc(d['new_run'])}</h1>", f"<p class='finding'>{esc(finding(d))}</p>"]
    if d["alerts"]:
        parts.append("<h2>Alerts</h2><ul class='alerts'>" + "".join(f"<li>{esc(a)}</li>" for a in d["alerts"]) + "</ul>")
    for title, head, rows in _tables(d):
        body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
        parts.append(f"<h2>{esc(title)}</h2><table><thead><tr>{''.join(f'<th>{esc(h)}</th>' for h in head)}</tr></thead>"
                     f"<tbody>{body or '<tr><td>(none)</td></tr>'}</tbody></table>")
    style = ("body{font:14px system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#1d2430}"
             ".finding{font-size:1.15em;background:#eef2ff;padding:.6em 1em;border-radius:6px}"
             ".alerts li{color:#9a3412}table{border-collapse:collapse;margin-bottom:1em}"
             "td,th{border-bottom:1px solid #e5e7eb;padding:.2em .6em;text-align:left}")
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>graphassoc drift</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>\n")
