"""The comparison report: Markdown and a self-contained HTML page (plots embedded as base64 PNG)."""

from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from graphassoc.evaluate.compare import CompareResult

METRICS = ("hr@5", "hr@10", "hr@20", "recall@10", "ndcg@5", "ndcg@10", "ndcg@20", "mrr")
STRATA = ("cold", "sparse", "warm", "never_seen")


def _f(x: Any, digits: int = 3) -> str:
    return "-" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.{digits}f}"


def _ci(est: dict[str, float]) -> str:
    return f"{_f(est['mean'])} [{_f(est['low'])}, {_f(est['high'])}]"


def tables(r: "CompareResult") -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) of every table, shared by the Markdown and HTML renderings."""
    out = []
    head = ["ranker", "HR@10 [95% CI]", "NDCG@10 [95% CI]", "MRR [95% CI]", "HR@10 never-seen", "coverage@10",
            "pop. percentile@10"]
    rows = []
    for row in r.headline():
        ci = row["intervals"]
        ns = ci["hr@10 never-seen"]
        rows.append([row["ranker"], _ci(ci["hr@10"]), _ci(ci["ndcg@10"]), _ci(ci["mrr"]), _ci(ns) if ns else "-",
                     _f(row["coverage@10"]), _f(row["popularity_percentile@10"])])
    out.append((f"Headline: {r.n_queries:,} test queries", head, rows))
    out.append(("All metrics (overall)", ["ranker", *METRICS],
                [[n, *[_f(m["overall"][k]) for k in METRICS]] for n, m in r.metrics.items()]))
    for s in STRATA:
        size = r.strata_sizes.get(s, 0)
        out.append((f"Stratum {s} ({size:,} queries)", ["ranker", "HR@10 [95% CI]", "NDCG@10 [95% CI]", "MRR [95% CI]"],
                    [[n, *[_ci(m["strata"][s]["intervals"][k]) if s in m["strata"] else "-"
                           for k in ("hr@10", "ndcg@10", "mrr")]] for n, m in r.metrics.items()]))
    if r.best_baseline:
        rows = []
        for name, groups in r.paired.items():
            for g, diffs in groups.items():
                rows.append([name, g, *[_ci(diffs[k]) + (" *" if diffs[k]["significant"] else "")
                                        for k in ("hr@10", "ndcg@10", "mrr")]])
        out.append((f"Paired differences vs the best baseline ({r.best_baseline}); * = 95% interval excludes 0",
                    ["ranker", "group", "Δ HR@10", "Δ NDCG@10", "Δ MRR"], rows))
    if any("item_to_basket" in m for m in r.metrics.values()):
        n = r.protocol.get("item_to_basket_queries", 0)
        out.append((f"Item-to-basket: one item of each test basket asks for the rest ({n:,} queries)",
                    ["ranker", "HR@10 [95% CI]", "Recall@10 [95% CI]", "NDCG@10 [95% CI]", "MRR [95% CI]"],
                    [[name, *[_ci(m["item_to_basket"][k]) for k in ("hr@10", "recall@10", "ndcg@10", "mrr")]]
                     for name, m in r.metrics.items() if "item_to_basket" in m]))
    if any("draws" in m for m in r.metrics.values()):
        n = next(m["draws"]["n"] for m in r.metrics.values() if "draws" in m)
        out.append((f"Over {n} hidden-item draws (mean [min, max]); the bootstrap intervals above cover one draw",
                    ["ranker", "HR@10", "NDCG@10", "MRR"],
                    [[name, *[f"{_f(m['draws'][k]['mean'])} [{_f(m['draws'][k]['min'])}, {_f(m['draws'][k]['max'])}]"
                              for k in ("hr@10", "ndcg@10", "mrr")]] for name, m in r.metrics.items() if "draws" in m]))
    if r.personal:
        from graphassoc.users.report import personal_tables

        out += personal_tables(r)
    buckets = r.popularity_buckets
    if buckets:
        names = list(r.metrics)
        out.append(("HR@10 by target popularity (evidence baskets holding the target)", ["popularity", "queries", *names],
                    [[b, str(v["queries"]), *[_f(v.get(n)) for n in names]] for b, v in buckets.items()]))
    notes = [[n, ", ".join(f"{k}={v}" for k, v in m["notes"].items()) or "-", f"{m['seconds']:.1f}"]
             for n, m in r.metrics.items()]
    out.append(("Ranker notes (tuned values, rule coverage) and fit+rank time", ["ranker", "notes", "seconds"], notes))
    if r.skipped:
        out.append(("Skipped rankers", ["ranker", "why"], [[k, v] for k, v in r.skipped.items()]))
    return out


def finding(r: "CompareResult") -> str:
    """The report in one sentence: the best ranker by HR@10, against the best baseline and on never-seen targets."""
    if not r.metrics:
        return "No ranker could be evaluated on this run."
    hr = {n: m["overall"]["intervals"]["hr@10"] for n, m in r.metrics.items()}
    best = max(hr, key=lambda n: hr[n]["mean"])
    text = f"{best} puts the hidden item in its top 10 for {_ci(hr[best])} of {r.n_queries:,} test queries (HR@10, 95% CI)"
    base = r.best_baseline
    if base and base != best and base in hr:
        diff = r.paired.get(best, {}).get("overall", {}).get("hr@10", {})
        verdict = "a significant gain" if diff.get("significant") else "not a significant difference"
        text += f", vs {_f(hr[base]['mean'])} for the best baseline {base} ({verdict})"
    never = r.metrics[best]["strata"].get("never_seen", {}).get("intervals", {}).get("hr@10")
    if never:
        text += f"; on products never sold before the cut it reaches {_f(never['mean'])}"
    return text + "."


def example_tables(r: "CompareResult") -> list[tuple[str, list[str], list[list[str]]]]:
    ex = r.examples
    out = []
    if ex.get("pairs_the_model_finds_that_no_rule_has"):
        out.append((f"Pairs {ex['model']} finds that no rule has (hidden item in its top 10, no applicable rule names it)",
                    ["query basket", "hidden item found", "model rank", "rules rank"],
                    [["; ".join(e["query"]), e["found"], str(e["model_rank"]), str(e["rules_rank"])]
                     for e in ex["pairs_the_model_finds_that_no_rule_has"]]))
    if ex.get("rules_the_model_ranks_low"):
        out.append((f"Strong rules {ex['model']} ranks low", ["antecedent", "consequent", "confidence", "lift", "model rank"],
                    [[e["antecedent"], e["consequent"], str(e["confidence"]), str(e["lift"]), str(e["model_rank"])]
                     for e in ex["rules_the_model_ranks_low"]]))
    if ex.get("new_products_and_predicted_partners"):
        out.append((f"New products (never sold before the cut) and the partners {ex['model']} predicts",
                    ["new product", "predicted partners"],
                    [[e["new_product"], "; ".join(e["predicted_partners"])] for e in ex["new_products_and_predicted_partners"]]))
    return out


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def plots(r: "CompareResult") -> dict[str, str]:
    """Base64 PNGs: metric bars with intervals, HR@10 by target popularity, rules/model top-10 overlap."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = {}
    names = list(r.metrics)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, metric in zip(axes, ("hr@10", "ndcg@10", "mrr")):
        est = [r.metrics[n]["overall"]["intervals"][metric] for n in names]
        means = np.array([e["mean"] for e in est])
        err = np.array([[e["mean"] - e["low"] for e in est], [e["high"] - e["mean"] for e in est]])
        ax.bar(range(len(names)), means, yerr=err, capsize=3, color="#4c72b0")
        ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
        ax.set_title(f"{metric.upper()} (95% CI)")
    out["metrics"] = _png(fig)
    if r.popularity_buckets:
        fig, ax = plt.subplots(figsize=(9, 3.8))
        labels = list(r.popularity_buckets)
        width = 0.8 / max(len(names), 1)
        for i, n in enumerate(names):
            ax.bar(np.arange(len(labels)) + i * width, [r.popularity_buckets[b].get(n, np.nan) for b in labels], width, label=n)
        ax.set_xticks(np.arange(len(labels)) + 0.4 - width / 2,
                      [f"{b}\n({r.popularity_buckets[b]['queries']} q)" for b in labels])
        ax.set_ylabel("HR@10")
        ax.set_xlabel("target popularity before the cut")
        ax.legend(fontsize=7, ncol=2)
        out["popularity"] = _png(fig)
    if "histogram_counts" in r.overlap:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.bar(range(11), r.overlap["histogram_counts"], color="#55a868")
        ax.set_xlabel(f"items shared by the top 10 of {r.overlap['rules']} and {r.overlap['model']}")
        ax.set_ylabel("queries")
        out["overlap"] = _png(fig)
    return out


def _md_table(title: str, head: list[str], rows: list[list[str]]) -> str:
    esc = [[c.replace("|", "\\|") for c in row] for row in rows]
    lines = [f"### {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in esc]
    return "\n".join(lines) + "\n"


def _protocol_lines(r: "CompareResult") -> list[str]:
    leak = "passed" if r.leakage.get("passed") else "not run"
    return [f"- {k}: {v}" for k, v in r.protocol.items()] + [f"- leakage check: {leak} ({', '.join(f'{k}={v}' for k, v in r.leakage.items() if k != 'passed')})"]


def render_markdown(r: "CompareResult") -> str:
    parts = [f"# Rules vs model: comparison on {r.run_dir}", "", f"**{finding(r)}**", "",
             "The headline plot (metric bars with intervals) opens report.html.", "",
             "## Protocol", "", *_protocol_lines(r), "",
             "## Results", ""]
    parts += [_md_table(*t) for t in tables(r)]
    if r.overlap.get("mean_shared") is not None:
        parts.append(f"Mean number of items shared by the top 10 of {r.overlap['rules']} and {r.overlap['model']}: "
                     f"{r.overlap['mean_shared']:.2f}\n")
    ex = example_tables(r)
    if ex:
        parts += ["## Worked examples", ""] + [_md_table(*t) for t in ex]
    parts.append("Plots: see report.html (metric bars with intervals, HR@10 by target popularity, top-10 overlap).\n")
    return "\n".join(parts)


def _html_table(title: str, head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<h3>{html.escape(title)}</h3><table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def render_html(r: "CompareResult") -> str:
    imgs = plots(r)
    captions = {"metrics": "Metrics with 95% bootstrap intervals", "popularity": "HR@10 by target popularity bucket",
                "overlap": "Overlap of the rules' and the model's top 10"}
    figure = {k: f"<figure><img alt='{captions[k]}' src='data:image/png;base64,{v}'/><figcaption>{captions[k]}</figcaption></figure>"
              for k, v in imgs.items()}
    # A reader sees the finding and the headline plot first; the tables follow, then the other plots.
    headline = figure.pop("metrics", "")
    figures = "".join(figure.values())
    protocol = "".join(f"<li>{html.escape(line[2:])}</li>" for line in _protocol_lines(r))
    style = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:.5em 0 1.5em}"
             "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}th{background:#f3f3f3}"
             "img{max-width:100%}.finding{font-size:1.15em;background:#eef2ff;padding:.6em 1em;border-radius:6px}")
    body = "".join(_html_table(*t) for t in tables(r))
    examples = "".join(_html_table(*t) for t in example_tables(r))
    title = html.escape(f"Rules vs model: {r.run_dir}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>{style}</style></head><body>"
            f"<h1>{title}</h1><p class='finding'>{html.escape(finding(r))}</p>{headline}"
            f"<h2>Protocol</h2><ul>{protocol}</ul><h2>Results</h2>{body}{'<h2>More plots</h2>' + figures if figures else ''}"
            f"{'<h2>Worked examples</h2>' + examples if examples else ''}</body></html>\n")
