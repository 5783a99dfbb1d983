"""The model catalog (models.toml), installed files, GGUF checks and hardware fit."""

from engine.catalog.catalog import (
    Catalog,
    CatalogModel,
    Reasoning,
    Sampling,
    load_catalog,
    parse_catalog,
)

__all__ = ["Catalog", "CatalogModel", "Reasoning", "Sampling", "load_catalog", "parse_catalog"]
