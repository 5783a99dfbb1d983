"""The ``hearth`` command: no arguments opens the window, ``--self-test`` checks the
installation headlessly (engine/selftest.py), anything else is the CLI.

Imports nothing heavy at module level, so ``hearth ask`` and ``hearth --self-test`` never
load Qt.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    # The egress policy goes in before any other Hearth code runs.
    import engine.policy  # noqa: PLC0415

    engine.policy.install()
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--self-test"]:
        from engine.selftest import main as self_test  # noqa: PLC0415

        return self_test(relaunch=_self_command())
    if args:
        from engine.cli import main as cli_main  # noqa: PLC0415

        return cli_main(args)
    from desktop.app import main as app_main  # noqa: PLC0415

    return app_main()


def _self_command() -> list[str]:
    """How to run ``hearth --self-test`` again (for its traced run): the bundle's executable
    takes the flag directly; from a checkout it is this module under the same interpreter."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "--self-test"]
    return [sys.executable, "-m", "desktop.launch", "--self-test"]


if __name__ == "__main__":
    sys.exit(main())
