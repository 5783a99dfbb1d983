"""Choosing files and folders with Qt's own dialog, which keeps no trace of what was chosen.

The platform's dialog is never used: GTK's writes every file it opens to
``~/.local/share/recently-used.xbel`` (a plain-text list of the person's documents). Qt's own
dialog keeps its history and last folder in ``QtProject.conf`` instead, also in plain text, so
that file is pointed at a place that cannot be created (under ``/dev/null``): nothing is
written, and each dialog starts from the folder it is given.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QDir, QSettings, Qt
from PySide6.QtWidgets import QFileDialog, QWidget

# A directory can never be made under a device file, not even by root.
_NOWHERE = os.path.join(os.devnull, "hearth-no-settings")


def keep_no_dialog_history() -> None:
    """Make Qt's dialogs (QFileDialog, QColorDialog…) unable to save their settings file."""
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, _NOWHERE)


def _own_dialog(parent: QWidget, title: str, start: Path | None) -> QFileDialog:
    keep_no_dialog_history()
    dialog = QFileDialog(parent, title, str(start or QDir.homePath()))
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dialog.setOption(QFileDialog.Option.DontUseCustomDirectoryIcons, True)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    return dialog


def choose_paths(
    parent: QWidget,
    title: str,
    chosen: Callable[[list[Path]], object],
    *,
    folder: bool = False,
    single: bool = False,
    start: Path | None = None,
    name_filter: str = "",
) -> QFileDialog:
    """Open Qt's own file dialog (window-modal, not blocking) for existing files (one with
    ``single``), or one folder with ``folder``; ``chosen`` gets the paths once the person
    accepts. The dialog is deleted when it closes."""
    dialog = _own_dialog(parent, title, start)
    if folder:
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
    elif single:
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    else:
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
    if name_filter:
        dialog.setNameFilter(name_filter)
    dialog.filesSelected.connect(lambda files: chosen([Path(f) for f in files]))
    dialog.open()
    return dialog


def choose_new_path(
    parent: QWidget,
    title: str,
    chosen: Callable[[Path], object],
    *,
    name: str,
    start: Path | None = None,
) -> QFileDialog:
    """Qt's own dialog for the name of a file to write, ``name`` proposed; it asks before a
    file that exists is replaced. ``chosen`` gets the path once the person accepts."""
    dialog = _own_dialog(parent, title, start)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setFileMode(QFileDialog.FileMode.AnyFile)
    dialog.selectFile(name)
    dialog.fileSelected.connect(lambda file: chosen(Path(file)))
    dialog.open()
    return dialog
