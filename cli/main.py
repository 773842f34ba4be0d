"""Entry point: `graphassoc COMMAND`. Commands live one per module and register themselves on cli/_app.py's `app`."""

from __future__ import annotations

from graphassoc.cli._app import app

# Importing a command module registers its commands on `app`. One line per command module, here only.
from graphassoc.cli import build_graph  # noqa: F401
from graphassoc.cli import compare  # noqa: F401
from graphassoc.cli import demo  # noqa: F401
from graphassoc.cli import export  # noqa: F401
from graphassoc.cli import ls  # noqa: F401
from graphassoc.cli import recommend  # noqa: F401
from graphassoc.cli import train  # noqa: F401
from graphassoc.cli import users  # noqa: F401  (profile, audience, groups, bundles)
from graphassoc.cli import drift  # noqa: F401
from graphassoc.cli import serve  # noqa: F401

__all__ = ["app", "main"]


def main() -> None:
    app()


if __name__ == "__main__":
    main()
