"""Qt's log output goes through Hearth's handler: no link address (query included), path or
quoted text reaches stderr, where a terminal or a session log would keep it unencrypted."""

from __future__ import annotations

import pytest
from PySide6.QtCore import qInstallMessageHandler, qWarning

from desktop import qt_log

SECRET = "pineapple-7"


@pytest.fixture
def handler():
    qt_log.install()
    yield
    qInstallMessageHandler(None)


def test_a_qt_warning_loses_addresses_paths_and_quoted_text(capfd, handler):
    qWarning(
        f"QDesktopServices::openUrl: Unable to open https://example.com/search?q={SECRET} "
        f'for "{SECRET} in quotes" from /home/me/{SECRET}.md'
    )
    err = capfd.readouterr().err
    assert "Qt warning" in err and "QDesktopServices::openUrl" in err
    assert SECRET not in err
    assert err.count("<address>") == 1 and "<text>" in err and "<path>" in err


def test_without_the_handler_qt_would_print_it(capfd):
    qInstallMessageHandler(None)
    qWarning(f"Unable to open https://example.com/?q={SECRET}")
    assert SECRET in capfd.readouterr().err  # what the handler is there to stop
