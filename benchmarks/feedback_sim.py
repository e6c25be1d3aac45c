"""Benchmark the feedback loop against simulated users whose relevance and position bias are known.

World: the bundled SciFact sample (1,500 abstracts, one chunk each) and its real test claims with qrels. The
claims are split in half by hash: *feedback* queries that simulated users search, and *held-out* queries that
only ever serve as the golden eval set. Users follow the position-based click model with examination
``(1/k)^eta`` at rank k and click an examined result with 0.9 when the qrels call it relevant, else 0.05; the
results they see are the current model's top 10, with an adjacent pair swapped in ``--explore-rate`` of searches.

Checks (each printed with PASS/FAIL and written to the JSON):

1. **Propensity recovery**: the EM and swap estimates of the curve vs the planted one (max abs error < tol).
2. **IPW vs naive retraining**: ``embedtune retrain`` on feedback only, once with IPW weights (debiased click
   rates above the noise floor) and once with every click weighted 1, both from the same current model; NDCG@10
   gain on the held-out queries, and the promotion gate's decision with its reasons.
3. **A/B report**: a split test between the current ranking and a planted better one (a relevant result placed
   at rank ``--plant-rank`` or above) must be called; ``--ab-runs`` tests between two identical arms give the false-positive
   rate (should be near alpha = 0.05); the same for team-draft interleaving.

    python benchmarks/feedback_sim.py [--model all-MiniLM-L6-v2] [--queries 300] [--searches 400] [--explore-rate 0.5]
    python benchmarks/feedback_sim.py --model TINY_MODEL_DIR --queries 50 --ab-runs 30 --learning-rate 5e-4  # smoke

Writes benchmarks/results/feedback_sim.json (``--out``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from embedtune.evaluation.beir import load_beir
from embedtune.feedback import ab_report, fit_pbm_em, fit_swap, write_log
from embedtune.feedback.retrain import retrain
from embedtune.feedback.retrain_config import RetrainConfig
from embedtune.feedback.simulate import Users, power_curve, simulate_ab, simulate_log
from embedtune.progress import progress_bar
from embedtune.samples import scifact_sample
from embedtune.workspace import write_jsonl

ROOT = Path(__file__).resolve().parent


def build_world(work: Path, n_queries: int, seed: int):
    """A workspace (chunks + golden eval of the held-out half) and the feedback half's queries and qrels."""
    data = load_beir(scifact_sample(), "test")
    qids = sorted(data.qrels, key=lambda q: hashlib.sha256(f"{seed}:{q}".encode()).hexdigest())[:n_queries]
    half = len(qids) // 2
    feedback_q, heldout_q = qids[:half], qids[half:]
    ws = work / "ws"
    write_jsonl(ws / "chunks.jsonl", [
        {"id": f"{d.id}#0", "doc_id": d.id, "text": d.full_text, "source": "scifact", "start_char": 0,
         "end_char": len(d.full_text), "n_tokens": 0} for d in data.corpus])
    write_jsonl(ws / "eval" / "queries.jsonl", [{"_id": q, "text": data.queries[q]} for q in heldout_q])
    (ws / "eval" / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(
        f"{q}\t{d}\t{g}\n" for q in heldout_q for d, g in data.qrels[q].items()))
    relevant = {q: {f"{d}#0" for d, g in data.qrels[q].items() if g > 0} for q in feedback_q}
    return ws, data, {q: data.queries[q] for q in feedback_q}, relevant


def rankings(model: str, docs, queries: dict[str, str], k: int = 10) -> dict[str, list[str]]:
    from embedtune.retrieval.dense import DenseRetriever

    retriever = DenseRetriever(model, cache=False)
    retriever.index(docs)
    run = retriever.search(queries, k)
    return {q: [f"{d}#0" for d in sorted(hits, key=hits.get, reverse=True)][:k] for q, hits in run.items()}


def boosted(ranking: list[str], relevant: set[str], rank: int) -> list[str]:
    """The planted better ranker: a relevant result (the highest shown, else any) placed at ``rank`` or above."""
    shown = [d for d in ranking if d in relevant]
    doc = shown[0] if shown else sorted(relevant)[0]
    if doc in ranking and ranking.index(doc) < rank:
        return list(ranking)
    rest = [d for d in ranking if d != doc]
    return (rest[: rank - 1] + [doc] + rest[rank - 1 :])[: len(ranking)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--searches", type=int, default=400, help="searches per feedback query (150 x 400 = 60,000: "
                        "at 50 the deep ranks get too few clicks to fit the curve)")
    parser.add_argument("--eta", type=float, default=1.0, help="examination (1/k)^eta")
    parser.add_argument("--explore-rate", type=float, default=0.5)
    parser.add_argument("--tolerance", type=float, default=0.1, help="max abs error of the fitted curve")
    parser.add_argument("--train-rows", type=int, default=512)
    parser.add_argument("--learning-rate", type=float, default=None, help="default: embedtune's (2e-5)")
    parser.add_argument("--ab-users", type=int, default=300)
    parser.add_argument("--ab-runs", type=int, default=100, help="identical-arm tests for the false-positive rate")
    parser.add_argument("--plant-rank", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "feedback_sim.json")
    args = parser.parse_args()
    results: dict = {"settings": {k: str(v) for k, v in vars(args).items()}}
    t0 = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="feedback-sim-"))
    try:
        ws, data, queries, relevant = build_world(work, args.queries, args.seed)
        shown = rankings(args.model, data.corpus, queries)
        truth = power_curve(10, args.eta)
        users = Users(truth)
        log = simulate_log(shown, relevant, users, args.searches, queries=queries,
                           explore_rate=args.explore_rate, seed=args.seed)
        log_path = work / "feedback.jsonl"
        write_log(log_path, log)

        # 1. Propensity recovery.
        em, swap = fit_pbm_em(log), fit_swap(log)
        results["propensity"] = {
            "true": truth.round(4).tolist(), "em": em.theta.round(4).tolist(), "swap": swap.theta.round(4).tolist(),
            "em_max_error": float(np.abs(em.theta - truth).max()),
            "swap_max_error": float(np.abs(swap.theta - truth).max()), "searches": len(log),
        }
        results["propensity"]["pass"] = results["propensity"]["em_max_error"] < args.tolerance

        # 2. IPW vs naive retraining, feedback only, same current model and budget.
        gains = {}
        for weighting in ("ipw", "naive"):
            copy = work / f"ws-{weighting}"
            shutil.copytree(ws, copy)
            cfg = RetrainConfig.model_validate({
                "weighting": weighting, "feedback_share": 1.0, "seed": args.seed,
                "gate": {"min_feedback_queries": 5},
                "mining": {"num_negatives": 1},
                "train": {"max_rows": args.train_rows, "hard_negatives": 1, "max_seq_length": 128,
                          "matryoshka_dims": [], "learning_rate": args.learning_rate},
            })
            rec = retrain(copy, log_path, cfg, model=args.model).record
            golden, held = rec.metrics["golden"], rec.metrics["feedback"]
            gains[weighting] = {"current": golden["reference_mean"], "retrained": golden["system_mean"],
                                "delta": golden["delta"], "p": golden["p_randomization"], "promoted": rec.promoted,
                                "feedback_delta": held["delta"] if held else None, "gate": rec.reasons,
                                "noise_floor": rec.pairs["noise_floor"], "click_pairs": rec.pairs["click_pairs"]}
        results["retrain"] = gains | {"pass": gains["ipw"]["delta"] > gains["naive"]["delta"]}

        # 3. A/B: planted better arm, identical arms (false-positive rate), interleaving.
        rel = {q: r for q, r in relevant.items() if r}
        a = shown.__getitem__
        b = {q: boosted(shown[q], rel[q], args.plant_rank) for q in rel}.__getitem__
        planted = ab_report(simulate_ab(a, b, rel, users, args.ab_users, 5, seed=args.seed))
        inter = ab_report(simulate_ab(a, b, rel, users, args.ab_users // 3, 3, mode="interleave", seed=args.seed))
        false_split = false_inter = 0
        with progress_bar() as bar:
            task = bar.add_task("identical-arm A/B tests", total=args.ab_runs)
            for run in range(args.ab_runs):
                seed = 1000 + run
                false_split += ab_report(simulate_ab(a, a, rel, users, args.ab_users, 5, seed=seed)).significant
                false_inter += ab_report(simulate_ab(a, a, rel, users, args.ab_users // 3, 3, mode="interleave",
                                                     seed=seed)).significant
                bar.advance(task)
        results["ab"] = {
            "planted_split": {"delta_mrr": planted.delta["mrr"], "p": planted.p_values["mrr"],
                              "called": planted.significant, "recommendation": planted.recommendation},
            "planted_interleave": {"credit": inter.interleaving.credit, "p": inter.interleaving.p_value,
                                   "called": inter.significant},
            "identical_false_positive_rate": {"split": false_split / args.ab_runs,
                                              "interleave": false_inter / args.ab_runs, "runs": args.ab_runs},
        }
        fpr_ok = max(false_split, false_inter) / args.ab_runs <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / args.ab_runs)
        results["ab"]["pass"] = bool(planted.significant and inter.significant and fpr_ok)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["seconds"] = round(time.perf_counter() - t0, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")

    p, r, ab = results["propensity"], results["retrain"], results["ab"]
    mark = {True: "PASS", False: "FAIL"}
    print(f"[{mark[p['pass']]}] propensity: true {p['true']}\n       em   {p['em']} (max err {p['em_max_error']:.3f})"
          f"\n       swap {p['swap']} (max err {p['swap_max_error']:.3f})")
    print(f"[{mark[r['pass']]}] retrain NDCG@10 on held-out queries: ipw {r['ipw']['current']:.4f} -> "
          f"{r['ipw']['retrained']:.4f} ({r['ipw']['delta']:+.4f}); naive -> {r['naive']['retrained']:.4f} "
          f"({r['naive']['delta']:+.4f})")
    for weighting in ("ipw", "naive"):
        print(f"       gate ({weighting}): {'promoted' if r[weighting]['promoted'] else 'refused'}; "
              + "; ".join(r[weighting]["gate"]))
    fpr = ab["identical_false_positive_rate"]
    print(f"[{mark[ab['pass']]}] A/B: planted split p = {ab['planted_split']['p']:.3g}, interleave p = "
          f"{ab['planted_interleave']['p']:.3g}; identical arms called different in {fpr['split']:.1%} (split), "
          f"{fpr['interleave']:.1%} (interleave) of {fpr['runs']} runs")
    print(f"wrote {args.out} in {results['seconds']}s")
    return 0 if p["pass"] and r["pass"] and ab["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
