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
from graphassoc.cli import build_graph, demo, ls  # noqa: E402,F401

for _optional in ("train", "compare", "recommend", "export"):
    try:
        __import__(f"graphassoc.cli.{_optional}")
    except ModuleNotFoundError as _err:
        if _err.name != f"graphassoc.cli.{_optional}":
            raise


def main() -> None:
    app()


if __name__ == "__main__":
    main()
