"""``torch``: the model as trained, fp32 on PyTorch. The reference every other backend is compared with.

Use it when exactness matters more than speed (training-time evaluation, a first baseline), or on machines
where neither bf16 (AMX / AVX512-BF16) nor int8 (VNNI) is fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from embedtune.encoding.base import InferenceBackend

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


class TorchBackend(InferenceBackend):
    """fp32 PyTorch; ``threads`` sets PyTorch's intra-op thread count (process-wide)."""

    name = "torch"

    def prepare(self, model: SentenceTransformer, path: Path, threads: int | None) -> SentenceTransformer:
        if threads:
            import torch

            torch.set_num_threads(threads)
        return model
