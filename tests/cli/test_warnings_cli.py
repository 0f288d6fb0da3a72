"""The CLI hides warnings raised inside dependencies unless ``--show-warnings``."""

from __future__ import annotations

import warnings

from typer.testing import CliRunner

from latticebench.cli import app

runner = CliRunner()


def _warn_from(module: str) -> None:
    warnings.warn_explicit("a remark", UserWarning, f"{module}.py", 1, module=module)


def _shown_after(args: list[str], env: dict[str, str] | None = None) -> list[str]:
    """Modules whose warnings still reach the user after the CLI ran with ``args``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
        for module in ("jobflow.core.job", "scipy._lib._util", "e3nn", "latticebench.md"):
            _warn_from(module)
    return [w.filename.removesuffix(".py") for w in caught]


def test_dependency_warnings_are_hidden_by_default():
    # ours still show: they are about the results
    assert _shown_after(["models", "list"]) == ["latticebench.md"]


def test_show_warnings_flag_and_environment_variable_keep_them():
    everything = ["jobflow.core.job", "scipy._lib._util", "e3nn", "latticebench.md"]
    assert _shown_after(["--show-warnings", "models", "list"]) == everything
    assert _shown_after(["models", "list"], env={"LATTICEBENCH_SHOW_WARNINGS": "1"}) == everything
