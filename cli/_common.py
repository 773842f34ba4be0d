"""What every command shares: one-line errors, config loading, the console."""

from __future__ import annotations

import contextlib
import functools
import sys
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import typer
from rich.console import Console

from graphassoc.errors import GraphassocError

console = Console(stderr=True, highlight=False)
F = TypeVar("F", bound=Callable[..., Any])

ConfigOption = typer.Option(None, "--config", "-c", help="YAML config file or preset name (configs/).")
SetOption = typer.Option(None, "--set", "-s", help="Override a config key: --set mining.min_support=0.01 (repeatable).")


def fail(message: str, code: int) -> None:
    console.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    raise typer.Exit(code)


def friendly_errors(fn: F) -> F:
    """Turn GraphassocError into one line on stderr and its exit code; Ctrl-C into exit 130."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GraphassocError as err:
            fail(str(err), err.exit_code)
        except KeyboardInterrupt:
            console.print("interrupted; nothing half-written was left behind")
            raise typer.Exit(130) from None
        except MemoryError:
            fail("out of memory; try a higher mining.min_support or graph.min_count", 1)

    return wrapper  # type: ignore[return-value]


@contextlib.contextmanager
def live_progress(start: str = "starting") -> Iterator[Callable[[str], None]]:
    """A spinner with the current step, and each step logged with its time: for long library calls."""
    with console.status(start) as status:
        def progress(msg: str) -> None:
            console.log(msg)
            status.update(msg)

        yield progress


def existing_file(path: Path | None, what: str) -> Path | None:
    if path is not None and not path.is_file():
        from graphassoc.errors import UsageError

        raise UsageError(f"{what} file '{path}' does not exist; check the path")
    return path


def stdout_is_tty() -> bool:
    return sys.stdout.isatty()
