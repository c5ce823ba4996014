"""The rich consoles and error reporting shared by every command.

Both consoles print data as text: rich markup, emoji codes and highlighting are off, so a skill
description, a trace's task or a model's answer prints exactly as stored (``a[i]``, ``[/]``,
``:smile:``), tables and trees included. Deliberate styling is built with `styled` (rich `Text`
objects), never by putting markup into strings. Lines are never wrapped by the console, so a long
path or error message stays one line.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    track,
)
from rich.text import Text

from coachgraph.errors import CoachgraphError

__all__ = ["console", "counting", "err_console", "one_line", "print_error", "progress", "reports_errors",
           "setup_logging", "styled", "warn", "working"]

console = Console(markup=False, emoji=False, highlight=False, soft_wrap=True)
err_console = Console(stderr=True, markup=False, emoji=False, highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def styled(*parts: str | tuple[str, str]) -> Text:
    """Text from plain strings and ``(text, style)`` pairs; no part is ever read as markup.

    >>> styled(("error: ", "bold red"), "a[i] [/] :smile:").plain
    'error: a[i] [/] :smile:'
    """
    return Text.assemble(*parts)


def one_line(message: object) -> str:
    """A message folded onto one line: its non-blank lines joined with ``; ``.

    >>> one_line("bad field\\n  task: too long\\n")
    'bad field; task: too long'
    """
    return "; ".join(line.strip() for line in str(message).splitlines() if line.strip())


def print_error(message: object) -> None:
    """Print ``error: MESSAGE`` as one line on stderr."""
    err_console.print(styled(("error: ", "bold red"), one_line(message)))


def warn(message: object) -> None:
    """Print ``warning: MESSAGE`` as one line on stderr."""
    err_console.print(styled(("warning: ", "bold yellow"), one_line(message)))


def progress(items: Iterable[T], total: int, description: str) -> Iterator[T]:
    """`items`, with a progress bar on stderr while they are consumed (on a terminal only, so that
    logs and pipes get no bar frames)."""
    if not err_console.is_terminal:
        yield from items
        return
    yield from track(items, total=total, description=description, console=err_console, transient=True)


@contextmanager
def counting(description: str, total: int) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr (on a terminal only); call the yielded function with
    ``(done, total)`` as work advances."""
    if not err_console.is_terminal:
        yield lambda done, total: None
        return
    columns = (TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda done, total: bar.update(task, completed=done, total=total)


@contextmanager
def working(what: str) -> Iterator[None]:
    """A spinner on stderr naming a long step while it runs (on a terminal only)."""
    if not err_console.is_terminal:
        yield
        return
    with err_console.status(Text(what)):
        yield


def setup_logging(verbose: bool) -> None:
    """Send library logs to stderr through rich; INFO with ``--verbose``, else WARNING."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False)],
        force=True,
    )


def reports_errors(func: F) -> F:
    """Turn a `CoachgraphError` into a one-line message on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CoachgraphError as exc:
            print_error(exc)
            raise typer.Exit(code=2) from None

    return wrapper  # type: ignore[return-value]
