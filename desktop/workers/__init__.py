"""The thread bridge between the engine (plain Python) and Qt (signals)."""
