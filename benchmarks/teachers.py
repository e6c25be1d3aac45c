"""Does distilling an offline teacher give the label-free lift? Teachers side by side on one workspace (issue 18).

Protocol (the same as ``benchmarks/quality.py``): whole corpus ingested, queries generated from the corpus only
(SmolLM2 questions on 64 chunks + title / inverse-cloze / keyphrase signals; no human query), test-judged
documents kept out of training, all-MiniLM-L6-v2, the run's training budget (1,024 rows, 128-token inputs,
MatryoshkaLoss 384/192/96), test queries never seen, choices made on the dev slice only. Recipes:

- ``mined``: the previous default, positive-aware mined negatives and MNRL, no teacher (``teach.teacher: none``);
- ``cross-encoder`` / ``fusion`` / ``ensemble``: the ``teach`` stage with that teacher, then MNRL + listwise KL
  to its labels (``train.distill: kl``); ``ensemble-margin-mse``: the ensemble with MarginMSE instead;
- ``plain``: the plain sentence-transformers recipe (MatryoshkaLoss(MNRL), in-batch negatives, no filters);
- ``*-lr-1e-4``: training-only variants on a copy of a taught workspace (learning rate 5x the default;
  ``-soft`` also divides the teacher's labels by 3 for softer targets); ``ensemble-hard``: half the taught rows
  are those the base model separates least (positive vs hardest mined negative), the teacher filtering the noise;
- ``mined-4k`` / ``ensemble-4k``: four times the run's training budget (4,096 rows, 128 steps), without and with
  the teacher; ``llm-claims`` / ``llm-questions``: only LLM-written queries (SmolLM2 on 512 chunks, questions and
  claims, or questions alone), no offline signal;
- the teacher alone: the ensemble teacher reranking the base hybrid's top 20 chunks on the test queries
  (document level by MaxP), scored like the models.

Every recipe after ``mined`` copies its workspace (same chunks, queries, split, mined rows, base vectors), so
only teach, train and evaluate run again. Each tuned model is compared with the base at every dim and inside
BM25 hybrid (paired t-test + randomisation test, both < 0.05).

    python benchmarks/teachers.py [--dataset scifact] [--recipes mined,ensemble,cross-encoder,fusion,plain]
        [--teacher-row] [--work /tmp/embedtune-teachers] [--transductive]

Writes benchmarks/results/teachers.json (merged per dataset/recipe) with the CPU and its capabilities.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rich.console import Console

from embedtune.evaluation.significance import compare
from embedtune.hardware import capability_record
from embedtune.pipeline import run_pipeline
from quality import DATASETS, PRIMARY, _share_caches, _summary, configure
from training_variants import copy_workspace

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "teachers.json"
RECIPES: dict[str, dict] = {
    "mined": {"teach": {"teacher": "none"}},
    "cross-encoder": {"teach": {"teacher": "cross-encoder"}},
    "fusion": {"teach": {"teacher": "fusion"}},
    "ensemble": {"teach": {"teacher": "ensemble"}},
    "ensemble-margin-mse": {"from": "ensemble", "teach": {"teacher": "ensemble"}, "train": {"distill": "margin-mse"}},
    "plain": {"recipe": "plain"},
    # Training-only variants of a taught workspace ("from": copied from that recipe, so nothing is taught again).
    "ensemble-lr-1e-4": {"from": "ensemble", "teach": {"teacher": "ensemble"}, "train": {"learning_rate": 1e-4}},
    "ensemble-lr-1e-4-soft": {"from": "ensemble", "teach": {"teacher": "ensemble"},
                              "train": {"learning_rate": 1e-4, "distill_temperature": 3.0}},
    "ensemble-hard": {"teach": {"teacher": "ensemble", "hard_share": 0.5}},
    "mined-lr-1e-4": {"from": "mined", "teach": {"teacher": "none"}, "train": {"learning_rate": 1e-4}},
    # Four times the run's budget (4,096 rows, 128 steps): does the lift grow with steps, with and without a teacher?
    "mined-4k": {"from": "mined", "teach": {"teacher": "none"}, "train": {"max_rows": 4096}},
    # Only LLM-written queries, questions and claims (SciFact's own queries are claims) on 512 chunks, no offline signal.
    "llm-claims": {"from": "mined", "teach": {"teacher": "none"},
                   "generate": {"styles": ["question", "claim"], "max_chunks": 512, "signals": []}},
    "llm-questions": {"from": "mined", "teach": {"teacher": "none"},
                      "generate": {"styles": ["question"], "max_chunks": 512, "signals": []}},
    "ensemble-4k": {"from": "ensemble", "teach": {"teacher": "ensemble", "max_rows": 5120}, "train": {"max_rows": 4096}},
}


def _config(dataset: Path, name: str, transductive: bool):
    spec = RECIPES[name]
    cfg = configure(dataset, "generated", spec.get("recipe", "embedtune"), transductive)
    for section, value in spec.items():
        if isinstance(value, dict):
            setattr(cfg, section, getattr(cfg, section).model_copy(update=value))
    # The recipes are compared as trained; the gate (which may deliver a merge or base) is measured on its own.
    cfg.gate = cfg.gate.model_copy(update={"enabled": False})
    cfg.report = cfg.report.model_copy(update={"rerank": None})  # the teacher row is the reranker here
    return cfg


def _hybrid_test(result) -> dict | None:
    systems = result.eval_report.get(f"per_query_{PRIMARY}", {})
    if "hybrid:base" not in systems or "hybrid:tuned" not in systems:
        return None
    c = compare(systems["hybrid:tuned"], systems["hybrid:base"], PRIMARY)
    return {"base": round(c.reference_mean, 4), "tuned": round(c.system_mean, 4), "delta": round(c.delta, 4),
            "p_ttest": round(c.p_ttest, 4), "p_randomization": round(c.p_randomization, 4), "significant": c.significant()}


def teacher_row(ws: Path, console: Console) -> dict:
    """The ensemble teacher reranking the base hybrid's top 20 chunks on the test queries, MaxP to documents."""
    from embedtune.corpus import load_chunks
    from embedtune.evaluation.beir import load_qrels, load_queries
    from embedtune.evaluation.metrics import evaluate_run
    from embedtune.retrieval.base import Document, ranked
    from embedtune.retrieval.bm25 import BM25Retriever
    from embedtune.retrieval.dense import DenseRetriever
    from embedtune.retrieval.embedding_cache import default_cache_dir
    from embedtune.retrieval.hybrid import HybridRetriever
    from embedtune.teach import TeachConfig, plan_teacher
    from embedtune.teach.reranker import TeacherReranker

    t0 = time.perf_counter()
    chunks = load_chunks(ws)
    docs = [Document(c.id, c.text) for c in chunks]
    doc_of = {c.id: list(c.doc_ids) for c in chunks}
    queries, qrels = load_queries(ws / "eval/queries.jsonl"), load_qrels(ws / "eval/qrels.tsv")
    queries = {q: t for q, t in queries.items() if q in qrels}
    cfg = TeachConfig(teacher="ensemble")
    plan = plan_teacher(cfg)
    bm25, dense = BM25Retriever(), DenseRetriever("all-MiniLM-L6-v2", cache_dir=default_cache_dir(ws))
    hybrid = HybridRetriever([bm25, dense])
    hybrid.index(docs)
    from embedtune.teach.stage import load_scorers

    first = hybrid.search(queries, 100)
    reranker = TeacherReranker(plan, cfg, load_scorers(plan, cfg, dense.model), bm25=bm25, ids=[d.id for d in docs])
    texts = {d.id: d.text for d in docs}
    runs = {"hybrid": first, "teacher": reranker.rerank(queries, first, texts, 20)}

    def maxp(run):
        out = {}
        for q, scores in run.items():
            best: dict[str, float] = {}
            for c in ranked(scores):
                for d in doc_of.get(c, [c]):
                    best.setdefault(d, scores[c])
            out[q] = best
        return out

    evals = {k: evaluate_run(qrels, maxp(r), [PRIMARY]) for k, r in runs.items()}
    c = compare(evals["teacher"].per_query[PRIMARY], evals["hybrid"].per_query[PRIMARY], PRIMARY)
    console.print(f"teacher alone: {c.system_mean:.4f} vs hybrid {c.reference_mean:.4f}")
    return {"teacher": plan.describe(), "ndcg@10": round(c.system_mean, 4), "hybrid_first_stage": round(c.reference_mean, 4),
            "delta_vs_hybrid": round(c.delta, 4), "p_randomization": round(c.p_randomization, 4),
            "seconds": round(time.perf_counter() - t0, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", default="scifact")
    ap.add_argument("--recipes", default="mined,ensemble,cross-encoder,fusion,plain")
    ap.add_argument("--teacher-row", action="store_true", help="also score the ensemble teacher alone")
    ap.add_argument("--transductive", action="store_true")
    ap.add_argument("--work", type=Path, default=Path("/tmp/embedtune-teachers"))
    args = ap.parse_args()
    console = Console()
    dataset = DATASETS / args.dataset
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": {}}
    key = args.dataset + (" (transductive)" if args.transductive else "")
    entry = results["runs"].setdefault(key, {})
    entry["machine"] = capability_record()
    first = args.work / args.dataset / "mined"
    for name in [r.strip() for r in args.recipes.split(",") if r.strip()]:
        ws = args.work / args.dataset / name
        if name == "plain":
            _share_caches(args.work / args.dataset, ws)
        elif name != "mined" and not ws.exists():
            src = args.work / args.dataset / RECIPES[name].get("from", "mined")
            if not (src / "manifest.json").exists():
                raise SystemExit(f"{src}: run the `{src.name}` recipe first (its workspace is copied)")
            copy_workspace(src, ws)
        t0 = time.perf_counter()
        result = run_pipeline(_config(dataset, name, args.transductive), ws, console)
        teach_report = ws / "teach_report.json"
        entry[name] = _summary(result, ws) | {
            "hybrid_tuned_vs_base": _hybrid_test(result),
            "teach": json.loads(teach_report.read_text()) if teach_report.exists() else None,
            "wall_seconds": round(time.perf_counter() - t0, 1),
        }
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    if args.teacher_row:
        entry["teacher_alone"] = teacher_row(first, console)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    for name, r in entry.items():
        if isinstance(r, dict) and "per_dim" in r:
            cells = ", ".join(f"@{row['dim']} {row['delta']:+.4f} (p {row['p-value']:.2g})" for row in r["per_dim"])
            console.print(f"{name}: {cells}; hybrid {r['hybrid_tuned_vs_base']}")
    console.print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
