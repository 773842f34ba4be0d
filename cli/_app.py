"""The typer app every command registers on (spaCy's cli/_util.py pattern).

Command modules import `app` from here, never from cli/main.py: main imports the command modules to
register them, so a command importing main would be an import circle.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="graphassoc",
    help="Product association analysis: exact rules, co-purchase graphs, a BERT+GNN hybrid model.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
