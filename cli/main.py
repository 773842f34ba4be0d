"""Entry point: `graphassoc COMMAND`. Commands live one per module and register themselves on `app`."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="graphassoc",
    help="Product association analysis: exact rules, co-purchase graphs, a BERT+GNN hybrid model.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Importing a command module registers its commands on `app`.
from graphassoc.cli import build_graph, compare, demo, export, ls, recommend, train  # noqa: E402,F401
from graphassoc.cli import drift, serve  # noqa: E402,F401


def main() -> None:
    app()


if __name__ == "__main__":
    main()
