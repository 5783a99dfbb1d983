"""The ``hearth`` command: no arguments opens the window, anything else is the CLI.

Imports nothing heavy at module level, so ``hearth ask`` never loads Qt.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    # The egress policy goes in before any other Hearth code runs.
    import engine.policy  # noqa: PLC0415

    engine.policy.install()
    args = list(sys.argv[1:] if argv is None else argv)
    if args:
        from engine.cli import main as cli_main  # noqa: PLC0415

        return cli_main(args)
    from desktop.app import main as app_main  # noqa: PLC0415

    return app_main()


if __name__ == "__main__":
    sys.exit(main())
