"""MatryoshkaLoss whose truncated dims learn the full dim's ranking: hard labels in-batch, soft labels for the rest.

What it optimises: at the full dim, MNRL over every column (in-batch and mined hard negatives), as
``MatryoshkaLoss`` does. At each smaller prefix: MNRL over the (anchor, positive) columns only, plus the KL
divergence from the full dim's softmax over *all* candidates (positives and hard negatives of the whole batch,
detached) to the prefix's softmax over the same candidates. A mined negative is often nearly as similar as the
positive; at 96 dims the prefix cannot always separate them, and a hard 0/1 target there fights the in-batch
signal (see ``FullDimNegativesMatryoshkaLoss``). The full dim's own distribution says *how much* closer the
positive is, which a short prefix can learn. Self-distillation across widths: "Starbucks: Improved Training for
2D Matryoshka Embeddings" (Zhuang et al. 2024); ``AdaptiveLayerLoss``'s KL term does the same across layers.

When to use it: MNRL with mined negatives and Matryoshka dims, when the small dims matter at serving time.
Other inner losses (GradCache, GIST, triplet) get the parent's behaviour. Under DDP the MNRL terms gather
candidates across processes as usual; the KL term distils over each process's own batch.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from sentence_transformers.base.losses.merged_forward import embed_columns
from sentence_transformers.sentence_transformer.losses import MatryoshkaLoss, MultipleNegativesRankingLoss
from sentence_transformers.sentence_transformer.losses.matryoshka import shrink
from torch import Tensor


def ranking_kl(teacher: list[Tensor], student: list[Tensor], scale: float) -> Tensor:
    """KL(teacher || student) of each anchor's softmax over every candidate column; teacher is not trained."""
    with torch.no_grad():
        target = F.log_softmax(scale * teacher[0] @ torch.cat(teacher[1:]).T, dim=-1)
    logits = F.log_softmax(scale * student[0] @ torch.cat(student[1:]).T, dim=-1)
    return F.kl_div(logits, target, reduction="batchmean", log_target=True)


class SelfDistillMatryoshkaLoss(MatryoshkaLoss):
    """``MatryoshkaLoss`` over MNRL; below the full dim: in-batch MNRL + KL to the full dim's ranking."""

    def __init__(self, *args, distill_weight: float = 1.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.distill_weight = distill_weight

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor) -> Tensor:
        if self.uses_gradient_cache or not isinstance(self.loss, MultipleNegativesRankingLoss):
            return super().forward(sentence_features, labels)
        embeddings = embed_columns(self.model, sentence_features)  # one forward; every prefix is cut from it
        full = [shrink(e, self.matryoshka_dims[0]) for e in embeddings]
        loss = self.matryoshka_weights[0] * self.loss.compute_loss_from_embeddings(full, labels)
        for dim, weight in zip(self.matryoshka_dims[1:], self.matryoshka_weights[1:]):
            cut = [shrink(e, dim) for e in embeddings]
            contrastive = self.loss.compute_loss_from_embeddings(cut[:2], labels)
            loss = loss + weight * (contrastive + self.distill_weight * ranking_kl(full, cut, self.loss.scale))
        return loss
