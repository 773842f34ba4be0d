"""What every command shares: one-line errors, config loading, the console."""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from graphassoc.errors import GraphassocError, UsageError

console = Console(stderr=True, highlight=False)
F = TypeVar("F", bound=Callable[..., Any])

ConfigOption = typer.Option(None, "--config", "-c", help="YAML config file or preset name (configs/).")
SetOption = typer.Option(None, "--set", "-s", help="Override a config key: --set mining.min_support=0.01 (repeatable).")

# Out of memory: the settings that really change the size of what each command holds, by command function.
MEMORY_ADVICE = {
    "build_graph_command": "a higher mining.min_support or mining.max_len=3 (fewer itemsets), "
                           "or clean.max_basket_size=50 (no giant baskets, whose pairs grow with their square)",
    "train_command": "a lower train.batch_size and text.batch_size, or train.mode=frozen",
    "tune_command": "a lower train.batch_size and text.batch_size, or train.mode=frozen",
    "compare_command": "fewer evaluate.rankers (ease and the model score items x items)",
    "recommend_command": "--method cooccurrence or rules (ease and the model score items x items)",
    "export_command": "a lower export.rdf_chunk_rows, or --top-k 20",
}


def fail(message: str, code: int) -> None:
    # Text, not markup: a message quotes user input (ids, titles, paths) that may hold "[red]" or "[/x]".
    console.print(Text.assemble(("error:", "bold red"), " ", message), soft_wrap=True)
    raise typer.Exit(code)


def friendly_errors(fn: F) -> F:
    """Turn GraphassocError (and running out of memory or disk) into one line on stderr; Ctrl-C into exit 130."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GraphassocError as err:  # MemoryBudgetError too: it names the setting before allocating
            fail(str(err), err.exit_code)
        except KeyboardInterrupt:
            console.print("interrupted; nothing half-written was left behind")
            raise typer.Exit(130) from None
        except MemoryError:
            advice = MEMORY_ADVICE.get(fn.__name__, "a smaller input")
            fail(f"out of memory; try {advice}", 1)
        except OSError as err:  # disk full, permissions, a file that vanished: outputs are atomic, so say it plainly
            where = f" '{err.filename}'" if err.filename else ""
            fail(f"cannot read or write{where}: {err.strerror or err}; free space or fix the path's permissions, "
                 "then rerun the same command", 1)

    return wrapper  # type: ignore[return-value]


@contextlib.contextmanager
def live_progress(start: str = "starting") -> Iterator[Callable[[str], None]]:
    """A spinner with the current step, and each step logged with its time: for long library calls."""
    with console.status(start) as status:
        def progress(msg: str) -> None:
            console.log(escape(msg))  # steps name user paths and ids: never read them as markup
            status.update(escape(msg))

        yield progress


def existing_file(path: Path | None, what: str) -> Path | None:
    """Check an input file up front, with the hint that fits: missing, or a directory given for a file."""
    if path is None or path.is_file():
        return path
    if path.is_dir():
        inside = sorted(p.name for p in path.iterdir() if p.is_file() and not p.name.startswith("."))[:3]
        example = f", e.g. '{path / inside[0]}'" if inside else ""
        raise UsageError(f"{what} file '{path}' is a directory; give the file itself{example}")
    raise UsageError(f"{what} file '{path}' does not exist; check the path")
