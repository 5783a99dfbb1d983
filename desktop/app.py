"""Starts the Qt application and shows the main window."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from desktop.main_window import MainWindow


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Hearth")
    app.setOrganizationName("Hearth")
    window = MainWindow()
    window.show()
    return app.exec()
