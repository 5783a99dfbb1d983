"""Which catalog models have a file on this machine."""

from __future__ import annotations

from pathlib import Path

from engine.catalog.catalog import Catalog, CatalogModel
from engine.errors import ModelError
from engine.paths import bundled_models_dir, models_dir


def search_dirs() -> list[Path]:
    """User models first (downloads and imports), then those that ship with the app."""
    return [models_dir(), bundled_models_dir()]


def partial_path(model: CatalogModel) -> Path:
    """Where an unfinished download of ``model`` is kept for resuming."""
    return models_dir() / f"{model.file}.part"


def find_file(model: CatalogModel) -> Path | None:
    for folder in search_dirs():
        candidate = folder / model.file
        if candidate.is_file():
            return candidate
    return None


def installed(catalog: Catalog) -> dict[str, Path]:
    """Catalog id → file, for every model with a file present."""
    found = {}
    for model in catalog.models:
        path = find_file(model)
        if path is not None:
            found[model.id] = path
    return found


def catalog_entry(catalog: Catalog, model_id: str) -> CatalogModel:
    """The catalog's entry for ``model_id``, installed or not.

    Raises: ModelError when the catalog has no such id.
    """
    try:
        return catalog.get(model_id)
    except KeyError:
        raise ModelError(
            f"“{model_id}” is not in the model catalog.", "Run 'hearth models' to see the ids."
        ) from None


def resolve(catalog: Catalog, spec: str | None) -> tuple[Path, CatalogModel | None]:
    """A model the person named: a catalog id, a .gguf path, or None for the default.

    Raises: ModelError when it is unknown or not installed.
    """
    if spec and (spec.endswith(".gguf") or "/" in spec or "\\" in spec):
        path = Path(spec).expanduser()
        if not path.is_file():
            raise ModelError(f"There is no model file at {path}.")
        return path, catalog.by_file(path.name)
    model = catalog_entry(catalog, spec or catalog.default_id)
    found = find_file(model)
    if found is None:
        raise ModelError(
            f"{model.label} is not installed.",
            "Run 'hearth models' to see what is installed and what fits this machine.",
        )
    return found, model
