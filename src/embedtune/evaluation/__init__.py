"""The evaluation engine every stage reports through: BEIR loading, trec_eval metrics, significance, verdicts."""

from embedtune.evaluation.baseline import BaselineReport, QueryFailure, Verdict, run_baseline
from embedtune.evaluation.beir import BeirDataset, Qrels, available_splits, load_beir
from embedtune.evaluation.evaluate import EvaluationReport, SystemResult, build_retrievers, evaluate_retrievers
from embedtune.evaluation.metrics import RunEvaluation, default_metrics, evaluate_run, parse_metric, parse_metrics
from embedtune.evaluation.significance import Comparison, compare, paired_ttest, randomization_test

__all__ = [
    "BaselineReport",
    "BeirDataset",
    "Comparison",
    "EvaluationReport",
    "QueryFailure",
    "Qrels",
    "RunEvaluation",
    "SystemResult",
    "Verdict",
    "available_splits",
    "build_retrievers",
    "compare",
    "default_metrics",
    "evaluate_retrievers",
    "evaluate_run",
    "load_beir",
    "paired_ttest",
    "parse_metric",
    "parse_metrics",
    "randomization_test",
    "run_baseline",
]
