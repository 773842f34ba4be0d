"""mlxtend 0.25's association_rules measures, vectorised, with the same float operations in the same order.

Each formula below copies mlxtend/frequent_patterns/association_rules.py for complete data (no
null values, so its `dis*` terms are 0 and `num_itemsets - 0.0` is n as a float). Keeping the
operation order (e.g. confidence = (sAC * n) / (sA * n), not sAC / sA) makes every value
bit-identical, so a rule sits on the same side of a threshold as in mlxtend.
"""

from __future__ import annotations

import numpy as np

# mlxtend's column names, in mlxtend's order.
MEASURES = [
    "antecedent support", "consequent support", "support", "confidence", "lift", "representativity",
    "leverage", "conviction", "zhangs_metric", "jaccard", "certainty", "kulczynski",
]


def supports(count: np.ndarray, n: int) -> np.ndarray:
    # mlxtend: `sup / float(num_itemsets)`.
    return np.asarray(count, dtype=np.int64) / float(n)


def confidence(count_ac: np.ndarray, count_a: np.ndarray, n: int) -> np.ndarray:
    nf = float(n)
    return (supports(count_ac, n) * nf) / (supports(count_a, n) * nf)


def rule_measures(count_ac: np.ndarray, count_a: np.ndarray, count_c: np.ndarray, n: int) -> dict[str, np.ndarray]:
    nf = float(n)
    s_ac, s_a, s_c = supports(count_ac, n), supports(count_a, n), supports(count_c, n)
    with np.errstate(divide="ignore", invalid="ignore"):  # mlxtend's np.where branches, without warnings
        conf = (s_ac * nf) / (s_a * nf)
        conf_ca = (s_ac * nf) / (s_c * nf)
        leverage = s_ac - s_a * s_c
        conviction = np.full(conf.shape, np.inf)
        below = conf < 1.0
        conviction[below] = (1.0 - s_c[below]) / (1.0 - conf[below])
        zhang_den = np.maximum(s_ac * (1 - s_a), s_a * (s_c - s_ac))
        zhangs = np.where(zhang_den == 0, 0, leverage / zhang_den)
        certainty_den = 1 - s_c
        certainty = np.where(certainty_den == 0, 0, (conf - s_c) / certainty_den)
        return {
            "antecedent support": s_a,
            "consequent support": s_c,
            "support": s_ac,
            "confidence": conf,
            "lift": conf / s_c,
            "representativity": np.full(conf.shape, (nf - 0.0) / nf),
            "leverage": leverage,
            "conviction": conviction,
            "zhangs_metric": zhangs.astype(np.float64),
            "jaccard": s_ac / (s_a + s_c - s_ac),
            "certainty": certainty.astype(np.float64),
            "kulczynski": (conf + conf_ca) / 2,
        }
