"""Every failure of the `coachgraph` command ends in one line on stderr, never a traceback.

The root command group catches what a command lets through: parser errors (an unknown option, a
value out of range) become ``error: ... (see `coachgraph CMD --help`)``; our own errors print
their message; errors from outside libraries that a user can fix (a missing file, a model server
that does not answer) are worded by the formatters in `OUTSIDE_ERRORS`; anything else prints its
type and message. ``--verbose`` adds the traceback, through the log.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from typer.core import TyperGroup

from coachgraph.cli._console import print_error
from coachgraph.errors import CoachgraphError

__all__ = ["OUTSIDE_ERRORS", "OneLineErrorGroup", "describe_error"]

logger = logging.getLogger(__name__)


def _os_error(exc: BaseException) -> str:
    assert isinstance(exc, OSError)
    reason = exc.strerror or str(exc)
    if exc.filename is None:
        return reason
    target = f" -> {exc.filename2}" if exc.filename2 else ""
    return f"{exc.filename}{target}: {reason}"


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost exception of a chain, e.g. the refused connection under a client error."""
    seen = {id(exc)}
    while (inner := exc.__cause__ or exc.__context__) is not None and id(inner) not in seen:
        seen.add(id(inner))
        exc = inner
    return exc


def _unreachable(exc: BaseException) -> str:
    request = getattr(exc, "request", None)
    where = getattr(request, "url", None) or "the server"
    cause = _root_cause(exc)
    reason = getattr(cause, "strerror", None) or str(cause)
    return f"cannot reach {where} ({reason}); start the server or fix the address you gave"


def _timed_out(exc: BaseException) -> str:
    request = getattr(exc, "request", None)
    where = getattr(request, "url", None) or "the server"
    return f"{where} did not answer in time; check that the server is up and not overloaded"


OUTSIDE_ERRORS: dict[tuple[str, str], Callable[[BaseException], str]] = {
    ("builtins", "OSError"): _os_error,
    ("openai", "APIConnectionError"): _unreachable,
    ("openai", "APITimeoutError"): _timed_out,
    ("httpx", "ConnectError"): _unreachable,
    ("httpx", "TimeoutException"): _timed_out,
}
"""(top-level module, class name) → wording of an outside error a user can fix. Keyed by name
so that the CLI needs not import every library whose errors it words; subclasses match too."""


def describe_error(exc: BaseException) -> tuple[str, int]:
    """The one-line message and exit code for an error that reached the top of a command."""
    if isinstance(exc, CoachgraphError):
        return str(exc), 2
    for cls in type(exc).__mro__:
        wording = OUTSIDE_ERRORS.get((cls.__module__.partition(".")[0], cls.__name__))
        if wording is not None:
            return wording(exc), 2
    return (f"unexpected {type(exc).__name__}: {exc} (a bug in coachgraph; "
            "run with --verbose for the traceback and report it)"), 1


def _parser_error(exc: BaseException) -> tuple[str, int] | None:
    """The message of a parser error (typer's click), found by shape: typer keeps click private."""
    if not (callable(getattr(exc, "format_message", None)) and isinstance(getattr(exc, "exit_code", None), int)):
        return None
    ctx = getattr(exc, "ctx", None)
    hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
    allowed = _allowed_range(getattr(exc, "param", None))
    return f"{exc.format_message()}{allowed}{hint}", exc.exit_code  # type: ignore[attr-defined]


def _allowed_range(param: object) -> str:
    """The whole allowed range of a numeric option, e.g. ``; allowed: 1 to 100``."""
    low, high = getattr(param, "min", None), getattr(param, "max", None)
    if low is None and high is None:
        return ""
    if high is None:
        return f"; allowed: {low} or more"
    return f"; allowed: up to {high}" if low is None else f"; allowed: {low} to {high}"


class OneLineErrorGroup(TyperGroup):
    """The root group: runs a command and turns whatever it raises into one line on stderr."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        code = self._run(args, prog_name, complete_var, extra)
        if standalone_mode:
            sys.exit(code)
        return code

    def _run(self, args: Sequence[str] | None, prog_name: str | None, complete_var: str | None,
             extra: dict[str, Any]) -> int:
        try:
            result = super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                                  standalone_mode=False, **extra)
        except Exception as exc:
            return _report(exc)
        return result if isinstance(result, int) else 0


def _report(exc: Exception) -> int:
    if type(exc).__name__ == "NoArgsIsHelpError":
        return 2  # the help has been printed
    if type(exc).__name__ == "Abort":
        print_error("aborted")
        return 1
    parsed = _parser_error(exc)
    if parsed is None:
        logger.info("traceback of the error below", exc_info=exc)
    message, code = parsed or describe_error(exc)
    print_error(message)
    return code
