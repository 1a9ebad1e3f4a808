"""The `planet-profiles` command line (console script `planet-profiles = planet_profiles._cli:main`).

One module per command group: `_app` (the group, global options, the error policy), `_profiles` (`list`,
`show`, `status`), `_doctor` (`doctor`), `_tokens` (`login`, `logout`, `token`), `_files` (`validate`,
`schema`, `new`, `templates`) and `_encrypt` (`encrypt`, `rekey`, `keygen`). Needs the `cli` extra
(`pip install 'planet-profiles[cli]'`, i.e. click).
"""

from __future__ import annotations

from collections.abc import Sequence

try:
    import click  # noqa: F401
except ImportError:  # pragma: no cover - depends on the installation
    raise SystemExit(
        "Error: the planet-profiles command needs click: pip install 'planet-profiles[cli]'"
    ) from None

from . import _doctor, _encrypt, _files, _profiles, _tokens  # noqa: F401  (register the commands)
from ._app import cli

__all__ = ["cli", "main"]


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI (exits the process with the command's status)."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="planet-profiles")
