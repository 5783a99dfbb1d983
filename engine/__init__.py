"""Hearth's engine: everything that is not GUI. Plain Python; never imports Qt."""

__version__ = "0.1.0"
