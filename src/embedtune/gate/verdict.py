"""The gate's decision: which model a run delivers (tuned, a base<->tuned merge, or base), and why.

Inputs are per-query NDCG@10 on the dev slice (queries held out from training, never the eval split, whose
numbers must stay an unbiased report) for base and for every candidate merge weight alpha (1.0 = the tuned
model), at every Matryoshka dim, and optionally the same on an out-of-domain slice.

The rules, in order:

1. **Per dim**, each candidate is compared with base by the paired tests of
   :mod:`embedtune.evaluation.significance` (same queries). A dim is ``worse`` when the candidate falls by more
   than ``max_dev_drop``, or falls at all with the randomisation test's two-sided p below ``harm_p`` (0.10 by
   default, i.e. one-sided 0.05: the gate leans towards keeping base); ``better`` when it rises with p below
   ``gain_p``; otherwise ``noise``.
2. **A candidate is refused** when it is ``worse`` at any dim, when its dev NDCG@10 averaged over the dims does
   not beat base's by more than ``min_gain`` (so a candidate better at no dim is always refused), or when its
   out-of-domain NDCG@10 falls by more than ``max_ood_drop`` at any dim.
3. **The chosen alpha** is the one with the best dev mean over dims among candidates not refused; means within
   ``alpha_tolerance`` of the best, or both above the dev ceiling, count as a tie, and ties go to the smaller
   alpha (the smaller change from base). alpha = 1 delivers ``tuned``, any other ``merged``.
4. **Nothing passes**: "nothing beats base: keeping base", and :data:`KEPT_BASE_EXIT_CODE` for scripts.
5. **A dev slice that cannot choose.** When base already scores above ``ceiling`` (0.95) at the full dim, or
   there is no dev slice, dev cannot show a gain, so rule 2's gain clause and rule 3's choice would be
   noise. The gate says so and falls back (``ceiling_fallback``): ``base`` keeps base; ``merge`` (default)
   delivers the ``fallback_alpha`` merge (0.5, the usual WiSE-FT / LM-Cocktail weight) only if it is neither
   ``worse`` on dev (falls from the ceiling are still visible) nor refused by the out-of-domain guard, and marks
   the result ``proven = False``.

Alpha is chosen on the same dev slice that judges it; with a handful of alphas the optimism this adds is small
next to the noise, and the eval split, scored later, is untouched by either.

References: Wortsman et al., "Robust fine-tuning of zero-shot models" (WiSE-FT, CVPR 2022); Xiao et al.,
"LM-Cocktail: Resilient Tuning of Language Models via Model Merging" (2023); Smucker, Allan & Carterette,
"A Comparison of Statistical Significance Tests for Information Retrieval Evaluation" (CIKM 2007).

Example::

    from embedtune.gate import GateConfig
    from embedtune.gate.verdict import decide

    base = {384: {"q1": 0.5, "q2": 0.6}}
    result = decide(base, {1.0: {384: {"q1": 0.9, "q2": 0.8}}}, GateConfig(ood=False))
    print(result.delivered, result.exit_code, *result.explanation, sep="\\n")
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np

from embedtune.evaluation.significance import Comparison, compare
from embedtune.gate.config import GateConfig
from embedtune.gate.scoring import METRIC

DELIVERED_EXIT_CODE = 0
KEPT_BASE_EXIT_CODE = 3  # 1 is an abort and 2 a user error in embedtune's CLI
NOTHING_BEATS_BASE = "nothing beats base: keeping base"
CANNOT_TELL = "the dev slice cannot show that anything beats base: keeping base"

Status = Literal["better", "noise", "worse"]
PerQuery = Mapping[str, float]
ByDim = Mapping[int, PerQuery]


def describe(c: Comparison) -> str:
    """``ndcg@10: 0.5000 -> 0.5200 (+0.0200, p = 0.031, 200 queries)``."""
    return (f"{c.metric}: {c.reference_mean:.4f} -> {c.system_mean:.4f} "
            f"({c.delta:+.4f}, p = {c.p_randomization:.3g}, {c.n_queries} queries)")


def judge(c: Comparison, *, max_drop: float, harm_p: float | None, gain_p: float = 0.05) -> Status:
    """``worse``, ``better`` or ``noise`` for one paired comparison of a candidate (system) with its reference.

    ``worse``: a fall larger than ``max_drop``, or any fall with two-sided p below ``harm_p`` (None: only the
    size counts, as the feedback loop's retrain gate wants). ``better``: a rise with both tests' p below
    ``gain_p``.
    """
    eps = 1e-12
    if c.delta < -max_drop - eps or (harm_p is not None and c.delta < -eps and c.p_randomization < harm_p):
        return "worse"
    if c.delta > eps and c.significant(gain_p):
        return "better"
    return "noise"


@dataclass(frozen=True)
class DimVerdict:
    """One candidate against base at one dim on the dev slice."""

    dim: int
    status: Status
    comparison: Comparison

    @property
    def prefers(self) -> Literal["candidate", "base"]:
        """Which model this dim alone would pick: the candidate only if it rose and is not ``worse``."""
        return "candidate" if self.status != "worse" and self.comparison.delta > 1e-12 else "base"

    def line(self) -> str:
        return f"{self.dim} dims: {describe(self.comparison)}: {self.status}"


@dataclass(frozen=True)
class DevCeiling:
    """How much room the dev slice leaves above base: a slice base already aces cannot show a gain.

    ``perfect_share`` is the share of dev queries on which base has NDCG@10 = 1 (every relevant document ranked
    first), at the full dim.
    """

    n_queries: int
    dim: int
    base_ndcg: float
    perfect_share: float
    ceiling: float

    @property
    def can_discriminate(self) -> bool:
        return self.base_ndcg <= self.ceiling

    def line(self) -> str:
        head = (f"dev slice: {self.n_queries} queries; base {METRIC} {self.base_ndcg:.4f} at {self.dim} dims, "
                f"{self.perfect_share:.0%} of queries already perfect")
        if self.can_discriminate:
            return f"{head}: it can show gains (ceiling {self.ceiling})"
        return (f"{head}: above the ceiling {self.ceiling}, it cannot discriminate, so no alpha is chosen on it "
                f"(make it harder: LLM-written queries, more dev pairs, a larger dev corpus)")

    @classmethod
    def of(cls, base: ByDim, ceiling: float) -> DevCeiling:
        dim = max(base)
        scores = np.array(list(base[dim].values()), dtype=np.float64)
        return cls(len(scores), dim, float(scores.mean()), float(np.mean(scores >= 1 - 1e-9)), ceiling)


@dataclass
class Candidate:
    """One point of the alpha curve: dev (and out-of-domain) NDCG@10 per dim, verdicts, and why it was refused."""

    alpha: float
    dev: dict[int, float]
    dev_mean: float
    verdicts: list[DimVerdict]
    ood: dict[int, float] | None = None
    refused: list[str] = field(default_factory=list)

    @property
    def passes(self) -> bool:
        return not self.refused


@dataclass
class GateResult:
    """What a run delivers and the evidence for it.

    Attributes:
        delivered: ``tuned``, ``merged`` or ``base``.
        delivered_model: folder (or registry name) of the delivered model; set by :func:`embedtune.gate.run_gate`.
        chosen_alpha: merge weight delivered (1.0 = tuned), None when base is kept.
        proven: whether the delivered candidate beat base on a dev slice that can discriminate (False for base
            and for the ceiling fallback).
        exit_code: 0 when a candidate is delivered, :data:`KEPT_BASE_EXIT_CODE` when base is kept.
        dims: the Matryoshka dims judged, largest first.
        base_dev / base_ood: base's NDCG@10 per dim (ood: None when the guard is off).
        candidates: the alpha curve, smallest alpha first.
        verdicts: per dim, the delivered candidate against base (when base is kept: the best refused candidate,
            to show why).
        ceiling: the dev slice's room above base (None: no dev slice).
        ood_name: which out-of-domain slice was scored.
        explanation: human-readable lines, the plain verdict first.
    """

    delivered: Literal["tuned", "merged", "base"]
    chosen_alpha: float | None
    proven: bool
    exit_code: int
    dims: list[int]
    base_dev: dict[int, float]
    candidates: list[Candidate]
    verdicts: list[DimVerdict]
    ceiling: DevCeiling | None
    base_ood: dict[int, float] | None = None
    ood_name: str | None = None
    delivered_model: str | None = None
    explanation: list[str] = field(default_factory=list)

    def curve(self) -> list[dict[str, object]]:
        """Rows for a table: alpha, dev NDCG@10 per dim, out-of-domain per dim, passes; alpha 0 is base."""
        def row(alpha: float, dev: Mapping[int, float], ood: Mapping[int, float] | None, passes: bool | None):
            return {"alpha": alpha, **{f"dev@{d}": dev.get(d) for d in self.dims},
                    **({f"ood@{d}": ood.get(d) for d in self.dims} if ood else {}), "passes": passes}

        return [row(0.0, self.base_dev, self.base_ood, None),
                *(row(c.alpha, c.dev, c.ood, c.passes) for c in self.candidates)]

    def to_json(self) -> dict:
        out = asdict(self)
        out["curve"] = self.curve()
        return json.loads(json.dumps(out))  # int dict keys as strings, as they will be on disk


def _compare_dims(base: ByDim, cand: ByDim, dims: Sequence[int], name: str, cfg: GateConfig) -> list[DimVerdict]:
    out = []
    for d in dims:
        c = compare(cand[d], base[d], METRIC, name, "base")
        out.append(DimVerdict(d, judge(c, max_drop=cfg.max_dev_drop, harm_p=cfg.harm_p, gain_p=cfg.gain_p), c))
    return out


def _mean(scores: PerQuery) -> float:
    return float(np.mean(list(scores.values()))) if scores else 0.0


def _name(alpha: float) -> str:
    return "tuned" if alpha == 1.0 else f"merge alpha={alpha:g}"


def decide(
    base_dev: ByDim | None,
    candidates_dev: Mapping[float, ByDim],
    config: GateConfig | None = None,
    *,
    base_ood: ByDim | None = None,
    candidates_ood: Mapping[float, ByDim] | None = None,
    ood_name: str | None = None,
) -> GateResult:
    """Apply the rules of this module to per-query scores.

    Args:
        base_dev: dim -> query id -> NDCG@10 of base on the dev slice; None when there is no dev slice.
        candidates_dev: alpha -> the same for each candidate (1.0 = tuned). Without a dev slice pass empty
            per-query maps, or leave out the alphas.
        base_ood / candidates_ood: the same on the out-of-domain slice, or None (guard off).
    """
    cfg = config or GateConfig()
    dims = sorted(base_dev or next(iter(candidates_dev.values()), {}) or (base_ood or {}), reverse=True)
    ceiling = DevCeiling.of(base_dev, cfg.ceiling) if base_dev else None
    can_choose = ceiling is not None and ceiling.can_discriminate
    base_means = {d: _mean(base_dev[d]) for d in dims} if base_dev else {}
    base_ood_means = {d: _mean(base_ood[d]) for d in dims} if base_ood else None

    cands: list[Candidate] = []
    for alpha in sorted(candidates_dev):
        scores = candidates_dev[alpha]
        verdicts = _compare_dims(base_dev, scores, dims, _name(alpha), cfg) if base_dev else []
        dev = {d: _mean(scores[d]) for d in dims} if base_dev else {}
        cand = Candidate(alpha, dev, float(np.mean(list(dev.values()))) if dev else 0.0, verdicts)
        for v in verdicts:
            if v.status == "worse":
                cand.refused.append(f"worse than base on dev at {v.line()}")
        gain = cand.dev_mean - float(np.mean(list(base_means.values()))) if base_dev else 0.0
        if can_choose and gain <= cfg.min_gain + 1e-12:
            cand.refused.append(f"not better than base on dev: mean over dims {gain:+.4f}")
        if base_ood_means is not None and candidates_ood is not None and alpha in candidates_ood:
            cand.ood = {d: _mean(candidates_ood[alpha][d]) for d in dims}
            drops = {d: base_ood_means[d] - cand.ood[d] for d in dims}
            over = [d for d in dims if cfg.max_ood_drop is not None and drops[d] > cfg.max_ood_drop + 1e-12]
            if over:
                cand.refused.append(f"out-of-domain {METRIC} falls {' / '.join(f'{drops[d]:.4f}' for d in over)} "
                                    f"at {' / '.join(map(str, over))} dims (allowed {cfg.max_ood_drop})")
        cands.append(cand)

    chosen: Candidate | None = None
    lines: list[str] = []
    if can_choose:
        passing = [c for c in cands if c.passes]
        if passing:
            best = max(c.dev_mean for c in passing)
            top = ceiling.ceiling if ceiling else 1.0
            chosen = min((c for c in passing if c.dev_mean >= best - cfg.alpha_tolerance - 1e-12
                          or (c.dev_mean > top and best > top)), key=lambda c: c.alpha)
    else:
        why = ceiling.line() if ceiling else "no dev slice: the gate cannot measure a gain"
        lines.append(why)
        fallback = next((c for c in cands if abs(c.alpha - cfg.fallback_alpha) < 1e-9), None)
        checks = [name for name, ran in (("on dev", bool(base_dev)), ("out of domain", base_ood_means is not None))
                  if ran]
        if cfg.ceiling_fallback == "merge" and fallback is not None and fallback.passes and checks:
            chosen = fallback
            lines.append(f"fallback: the alpha={cfg.fallback_alpha:g} merge (the usual WiSE-FT / LM-Cocktail "
                         f"weight) does not fall {' or '.join(checks)}")
        elif cfg.ceiling_fallback == "merge" and fallback is not None and not checks:
            lines.append("fallback refused: neither a dev slice nor the out-of-domain guard could check it")
        elif cfg.ceiling_fallback == "merge" and fallback is not None:
            lines.append(f"fallback alpha={cfg.fallback_alpha:g} refused: " + "; ".join(fallback.refused))

    if chosen is None:
        shown = max(cands, key=lambda c: (c.dev_mean, -c.alpha)) if cands else None
        result = GateResult("base", None, False, KEPT_BASE_EXIT_CODE, dims, base_means, cands,
                            shown.verdicts if shown else [], ceiling, base_ood_means, ood_name)
        head = [NOTHING_BEATS_BASE if can_choose else CANNOT_TELL]
        for c in cands:
            head.append(f"{_name(c.alpha)} refused: " + ("; ".join(c.refused) if c.refused else "cannot be chosen"))
    else:
        kind: Literal["tuned", "merged"] = "tuned" if chosen.alpha == 1.0 else "merged"
        result = GateResult(kind, chosen.alpha, can_choose, DELIVERED_EXIT_CODE, dims, base_means, cands,
                            chosen.verdicts, ceiling, base_ood_means, ood_name)
        head = [f"delivering {_name(chosen.alpha)}" + ("" if can_choose else " (unproven: dev cannot discriminate)")]
        if can_choose:
            head.append(f"chosen alpha {chosen.alpha:g}: best dev {METRIC} over dims among candidates that pass "
                        f"(ties within {cfg.alpha_tolerance:g} go to the smaller alpha)")
    if ceiling is not None and can_choose:
        lines.insert(0, ceiling.line())
    if base_dev:
        curve = ", ".join([f"base {np.mean(list(base_means.values())):.4f}"]
                          + [f"{c.alpha:g} {c.dev_mean:.4f}" for c in cands])
        lines.append(f"alpha curve (dev {METRIC}, mean over dims): {curve}")
    lines += [v.line() for v in result.verdicts]
    if base_ood_means is not None:
        for c in cands:
            if c.ood:
                kept = ", ".join(f"{c.ood[d]:.4f} vs {base_ood_means[d]:.4f} at {d} "
                                 f"({c.ood[d] / max(base_ood_means[d], 1e-12):.1%})" for d in dims)
                lines.append(f"out of domain ({ood_name}), {_name(c.alpha)} keeps: {kept}")
    result.explanation = head + lines
    return result
