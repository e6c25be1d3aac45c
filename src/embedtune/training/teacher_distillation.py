"""MNRL plus distillation of a teacher's scores over each row's candidates, from one forward pass.

What it optimises: the student's ranking of a row's candidates (its positive and the teacher-kept hard negatives)
to follow the teacher's, either as distributions (``kl``: listwise KL divergence, sentence-transformers'
``DistillKLDivLoss``; CADET) or as margins (``margin-mse``: the positive-minus-negative score gap,
``MarginMSELoss``; GPL), added to MNRL on the positive (in-batch and hard negatives) so the student keeps its
contrastive signal where the teacher's labels are soft.

Both distillation losses come from sentence-transformers; this class only computes the embeddings once and
feeds them to each loss (``compute_loss_from_embeddings``), instead of one forward pass per loss. Inside
``MatryoshkaLoss`` every prefix is distilled, so small dims learn the teacher's ranking too.

Student scores are cosine similarities times ``scale`` (MNRL's 1 / temperature), so they live on the teacher
labels' scale (the ``teach`` stage writes z-scores times its ``spread``). The KL term is multiplied back by
``scale ** 2`` (sentence-transformers scales it by the student temperature squared), so ``weight`` 1 weighs it
like MNRL.

References: Hofstätter et al., "Improving Efficient Neural Ranking Models with Cross-Architecture Knowledge
Distillation" (2020, MarginMSE); Wang et al., "GPL" (2022); Lin et al., "In-Batch Negatives for Knowledge
Distillation with Tightly-Coupled Teachers for Dense Retrieval" (2021, listwise KL).

Example::

    from sentence_transformers import SentenceTransformer
    from embedtune.training.teacher_distillation import TeacherDistillLoss
    model = SentenceTransformer("path/to/model")
    loss = TeacherDistillLoss(model, kind="kl", scale=20.0)
    # dataset columns: anchor, positive, negative_1..n, label = [teacher(q, pos), teacher(q, neg_1), ...]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from sentence_transformers.base.losses.merged_forward import embed_columns
from sentence_transformers.sentence_transformer import losses
from sentence_transformers.util import pairwise_cos_sim
from torch import Tensor, nn


class TeacherDistillLoss(nn.Module):
    """``mnrl_weight`` x MNRL + ``weight`` x (listwise KL | MarginMSE) to the teacher's labels.

    Args:
        model: the student SentenceTransformer.
        kind: ``kl`` or ``margin-mse``.
        scale: student cosine scale (MNRL's), also applied before the distillation loss.
        weight: weight of the distillation term.
        mnrl_weight: weight of MNRL on the positive (0 = distillation alone).
        teacher_temperature: teacher labels are divided by it (> 1: softer targets, smaller margins).
    """

    def __init__(self, model, kind: Literal["kl", "margin-mse"] = "kl", scale: float = 20.0, weight: float = 1.0,
                 mnrl_weight: float = 1.0, teacher_temperature: float = 1.0, gather_across_devices: bool = False) -> None:
        super().__init__()
        self.model, self.kind, self.weight, self.mnrl_weight = model, kind, weight, mnrl_weight
        self.teacher_temperature = teacher_temperature
        self.mnrl = losses.MultipleNegativesRankingLoss(model, scale=scale, gather_across_devices=gather_across_devices)
        if kind == "kl":
            self.distill = losses.DistillKLDivLoss(model, similarity_fct=pairwise_cos_sim, student_temperature=1 / scale,
                                                   teacher_temperature=1.0)  # labels arrive already divided
            self.distill_factor = scale**2  # undo the loss's student-temperature-squared scaling
        else:
            self.distill = losses.MarginMSELoss(model, similarity_fct=lambda a, b: scale * pairwise_cos_sim(a, b))
            self.distill_factor = 1.0

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor) -> Tensor:
        embeddings = embed_columns(self.model, sentence_features)
        labels = labels.float() / self.teacher_temperature
        loss = self.weight * self.distill_factor * self.distill.compute_loss_from_embeddings(embeddings, labels)
        if self.mnrl_weight:
            loss = loss + self.mnrl_weight * self.mnrl.compute_loss_from_embeddings(embeddings, None)
        return loss
