"""MatryoshkaLoss whose truncated dims see in-batch negatives only; hard negatives train the full dim.

What it optimises: the same sum of contrastive losses over Matryoshka prefixes as sentence-transformers'
``MatryoshkaLoss`` (Kusupati et al. 2022), except that at every dim below the model's full width the inner loss
gets only the (anchor, positive) columns, so mined hard negatives are scored at the full dim alone. A hard
negative is a passage the base model already ranks near the query; at 64-128 dims the prefix has too little
room to separate it, so its gradient fights the in-batch signal there.

When to use it: MNRL with mined negatives and Matryoshka dims, when the small dims gain less than
in-batch-only training gives them. Other inner losses (GradCache, GIST, triplet) get the parent's behaviour.
"""

from __future__ import annotations

from collections.abc import Iterable

from sentence_transformers.base.losses.merged_forward import embed_columns
from sentence_transformers.sentence_transformer.losses import (
    MatryoshkaLoss,
    MultipleNegativesRankingLoss,
)
from sentence_transformers.sentence_transformer.losses.matryoshka import shrink
from torch import Tensor


class FullDimNegativesMatryoshkaLoss(MatryoshkaLoss):
    """``MatryoshkaLoss`` over MNRL with hard-negative columns dropped below the first (full) dim."""

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor) -> Tensor:
        if self.uses_gradient_cache or not isinstance(self.loss, MultipleNegativesRankingLoss):
            return super().forward(sentence_features, labels)
        embeddings = embed_columns(self.model, sentence_features)  # one forward; every prefix is cut from it
        loss: Tensor | float = 0.0
        for i, (dim, weight) in enumerate(zip(self.matryoshka_dims, self.matryoshka_weights)):
            columns = embeddings if i == 0 else embeddings[:2]
            loss = loss + weight * self.loss.compute_loss_from_embeddings([shrink(e, dim) for e in columns], labels)
        return loss  # type: ignore[return-value]
