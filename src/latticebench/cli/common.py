"""Helpers shared by the command modules: consoles and clean error exits."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

console = Console()
"""Standard output (tables, results)."""

error_console = Console(stderr=True, soft_wrap=True)
"""Standard error, without wrapping, so paths and URLs in messages stay intact."""


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` on standard error and exit with ``code`` (no traceback).

    Parameters
    ----------
    message : str
    code : int
    """
    error_console.print(f"[red]error:[/red] {message}", markup=True, highlight=False)
    raise typer.Exit(code)
