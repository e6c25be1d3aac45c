"""Load the model that made an index version's vectors, and prove it is that model before serving with it.

A version records its model's folder and content hash. The folder may have moved since the build (another
machine, a cleaned run folder), so ``--model`` offers a second place to look; whichever folder is used, its
content hash must equal the version's, or queries would be encoded into a foreign vector space. Models are
shared between versions built with the same one (keyed by hash), and warmed up once at load: the first
encode configures the tokenizer, which must not happen concurrently in several worker threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from embedtune.errors import EmbedtuneError
from embedtune.index.base import IndexMeta, IndexVersion
from embedtune.index.model import check_version_model
from embedtune.retrieval.embedding_cache import encode_texts


def model_candidates(meta: IndexMeta, override: str | None) -> list[Path]:
    """Where to look for a version's model: ``--model`` first, then the folder recorded at build time."""
    paths = [Path(override).expanduser()] if override else []
    if meta.model_path:
        paths.append(Path(meta.model_path).expanduser())
    return list(dict.fromkeys(paths))


def find_model(version: IndexVersion, override: str | None) -> Path:
    """The first candidate folder whose content is the version's model; EmbedtuneError naming each tried."""
    tried: list[str] = []
    for path in model_candidates(version.meta, override):
        try:
            check_version_model(version.meta, path)
        except EmbedtuneError as e:
            tried.append(str(e))
            continue
        return path
    where = "; ".join(tried) or "no model path recorded"
    raise EmbedtuneError(
        f"index version {version.meta.name!r}: cannot find the model its vectors were made with ({where}); "
        "pass that model's folder as model=FOLDER"
    )


class ModelCache:
    """Loaded SentenceTransformers by content hash, least recently used evicted beyond ``size``."""

    def __init__(self, size: int, inference: str | None = None) -> None:
        self.size = size
        self.inference = inference  # the backend every model loads with (None: load_embedder's default)
        self._models: OrderedDict[str, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: Path, model_hash: str):  # -> SentenceTransformer
        """The model at ``path`` (whose hash is ``model_hash``), loaded and warmed up at most once."""
        with self._lock:  # loads are rare and heavy: one at a time keeps memory predictable
            key = model_hash or str(path.resolve())
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            model = _load(path, self.inference)
            self._models[key] = model
            while len(self._models) > self.size:
                self._models.popitem(last=False)
            return model


def _load(path: Path, inference: str | None):
    from embedtune.models import load_embedder

    model = load_embedder(path, inference=inference)
    model.eval()
    # The first calls set the fast tokenizer's padding/truncation, a mutation that fails ("Already borrowed")
    # when another thread encodes at that moment; later calls with the same settings only read them.
    for kind in ("query", "document"):
        encode_texts(model, ["warm up", "a second, longer warm-up text"], kind, progress=False)
    model.preprocess(["warm up"])  # token counting's call, same settings
    return model
