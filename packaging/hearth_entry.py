"""The bundle's entry point: PyInstaller needs a script, and this one only hands over to the
``hearth`` command, which installs the egress policy before any other Hearth code runs."""

import sys

from desktop.launch import main

if __name__ == "__main__":
    sys.exit(main())
