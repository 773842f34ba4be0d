"""Leak-free evaluation: protocol (leave-one-out, item-to-basket), metrics, bootstrap, `compare`.

Public: compare(run_dir, cfg, progress, overwrite) -> CompareResult (graphassoc.evaluate.compare),
check_leakage (graphassoc.evaluate.leakage); the building blocks live in protocol.py and metrics.py.
Rankers are in graphassoc.rankers (RANKERS registry), with their settings (RankersConfig).
"""
