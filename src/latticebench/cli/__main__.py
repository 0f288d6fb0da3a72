"""Allow ``python -m latticebench.cli``."""

from latticebench.cli import app

app()
