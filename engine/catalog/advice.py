"""What the empty chat tells a person about models: who answers, whether the flagship runs on
this computer, and which model suits it best. Plain text; the desktop shows it."""

from __future__ import annotations

from engine.catalog.catalog import Catalog, CatalogModel
from engine.catalog.fit import fit_model
from engine.catalog.hardware import Hardware
from engine.catalog.installed import installed
from engine.catalog.plan import recommend
from engine.errors import HearthError

GREETING = "Ask anything. Nothing leaves this computer."


def welcome_text(catalog: Catalog | None, hardware: Hardware | None) -> str:
    """The welcome for ``hardware``; with None for either (not read, or not measured yet),
    the short greeting only."""
    if catalog is None or hardware is None:
        return GREETING
    try:
        have = installed(catalog)
        flagship = catalog.flagship
        fit = fit_model(flagship, hardware)
        best = recommend(catalog, hardware).model
    except HearthError:
        return GREETING
    lines = [GREETING]
    if flagship.id in have:
        lines.append(f"{flagship.label} is installed: pick it above.")
    else:
        lines.append(
            "You are chatting with the small starter model. Hearth's full assistant is "
            f"{flagship.label}; on this computer: {fit.describe()}."
        )
        lines.append(f"To get it: Models… above, or hearth models pull {flagship.id}")
    if best.id != flagship.id and best.id not in have and best.id != catalog.default_id:
        lines.append(
            f"Best for this computer: {best.label} ({fit_model(best, hardware).describe()})."
        )
    return "\n\n".join(lines)


def model_to_get(catalog: Catalog | None, hardware: Hardware | None) -> CatalogModel | None:
    """The model the welcome offers with one button: the one that suits this computer best,
    when it is not installed yet and not the starter model. None when there is none."""
    if catalog is None or hardware is None:
        return None
    try:
        best = recommend(catalog, hardware).model
        have = installed(catalog)
    except HearthError:
        return None
    if best.id in have or best.id == catalog.default_id:
        return None
    return best
