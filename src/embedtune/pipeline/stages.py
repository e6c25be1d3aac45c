"""The stages of ``embedtune run``, one shape each: ``stage(workspace, config, *, force=False) -> StageResult``.

Each takes the run's whole config (a :class:`~embedtune.pipeline.config.RunConfig`; a stage reads its own
section), calls the package function that does the work, prints its summary and returns a
:class:`~embedtune.workspace.StageResult` whose ``value`` is that function's return. A stage whose outputs are
current does no work and says ``reused``; ``force=True`` runs it anyway. Round 2 and later call ``mine``,
``teach`` and ``train`` on their round's sub-workspace, and ``mine`` with the model to mine with. The stages that
encode take the run's :class:`~embedtune.retrieval.runner.Runner` (default: ``config.inference``, in this
process); training always runs here, in torch.

The baseline, gate and evaluate stages, which only the pipeline has, live in their own modules and are
re-exported here, so ``stages.<name>`` is every stage of a run.
"""

from __future__ import annotations

from rich.console import Console

from embedtune.corpus import ingest as ingest_files
from embedtune.corpus import print_ingest_summary
from embedtune.corpus.report import IngestReport
from embedtune.dataset import build_split
from embedtune.dataset.split import SplitResult
from embedtune.evaluation.beir import load_beir
from embedtune.mining import MiningResult, print_mining_summary
from embedtune.mining import mine as mine_negatives
from embedtune.pipeline.baseline_stage import baseline
from embedtune.pipeline.config import RunConfig
from embedtune.pipeline.evaluate_stage import evaluate
from embedtune.pipeline.gate_stage import gate
from embedtune.pipeline.runner import run_runner
from embedtune.progress import make_console
from embedtune.querygen import generate_queries, print_report
from embedtune.querygen.report import QuerygenReport
from embedtune.retrieval.runner import Runner
from embedtune.samples import scifact_sample
from embedtune.teach import teach as teach_rows
from embedtune.teach.stage import TeachResult
from embedtune.training.stage import TrainResult, train_stage
from embedtune.workspace import StageResult, Workspace
from embedtune.workspace.artifacts import EVAL_SPLIT_QUERIES

__all__ = ["baseline", "evaluate", "gate", "generate", "ingest", "mine", "split", "teach", "train"]


def _header(name: str, console: Console | None) -> Console:
    """The console to print on, after a rule naming the stage (so its progress bars sit under its name)."""
    console = console or make_console()
    console.rule(f"[bold]{name}")
    return console


def ingest(ws: Workspace, config: RunConfig, *, force: bool = False,
           console: Console | None = None) -> StageResult[IngestReport]:
    """``config.corpus`` (default: the bundled SciFact sample) into chunks sized for ``config.base_model``."""
    _header("ingest", console)
    corpus = config.corpus or [scifact_sample()]
    report = ingest_files(corpus, ws, config.ingest.model_copy(update={"model": config.base_model}), force=force)
    print_ingest_summary(report)
    return StageResult.recorded(ws, "ingest", report, reused=report.reused)


def _eval_dataset(config: RunConfig):
    """The real eval set's folder: ``config.eval.dataset``, or the bundled sample's when the corpus is it too."""
    return config.eval.dataset or (scifact_sample() if not config.corpus else None)


def generate(ws: Workspace, config: RunConfig, *, force: bool = False, runner: Runner | None = None,
             console: Console | None = None) -> StageResult[QuerygenReport]:
    """Training queries for the chunks; with a real eval set, queries that nearly copy its eval queries are
    dropped (the eval split's queries only: a BEIR queries file also holds training queries, which must stay
    usable, e.g. imported as labelled training queries)."""
    console = _header("generate", console)
    gen_cfg = config.generate
    if (dataset := _eval_dataset(config)) is not None:
        data = load_beir(dataset, config.eval.split)
        eval_split = {q: data.queries[q] for q in data.qrels if q in data.queries}
        gen_cfg = gen_cfg.model_copy(update={"eval_queries": EVAL_SPLIT_QUERIES.write(ws, eval_split)})
    report = generate_queries(ws, gen_cfg, force=force, runner=run_runner(config, runner))
    print_report(report, console)
    return StageResult.recorded(ws, "generate", report, reused=report.reused)


def split(ws: Workspace, config: RunConfig, *, force: bool = False,
          console: Console | None = None) -> StageResult[SplitResult]:
    """Train / dev / eval by document; the real eval set, when there is one, is the eval split."""
    console = _header("split", console)
    eval_queries = eval_qrels = None
    if (dataset := _eval_dataset(config)) is not None:
        data = load_beir(dataset, config.eval.split)
        eval_queries, eval_qrels = data.queries, data.qrels
    result = build_split(ws, config.split, eval_queries, eval_qrels, force=force)
    if result is not None:
        r = result.report
        console.print(f"train {r['train_queries']:,} · dev {r['dev_queries']:,} · eval {r['eval_queries']:,} queries "
                      f"({r['eval_source']}); near-duplicates of eval dropped: {r['near_duplicates_of_eval_dropped']}")
        if "warning" in r:
            console.print(f"[yellow]warning:[/] {r['warning']}")
    return StageResult.recorded(ws, "split", result, reused=result is None)


def mine(ws: Workspace, config: RunConfig, *, model: str | None = None, round: int = 1, force: bool = False,
         runner: Runner | None = None, console: Console | None = None) -> StageResult[MiningResult]:
    """Hard negatives mined with ``model`` (default the base model; a later round passes the last round's)."""
    console = _header(f"mine (round {round})", console)
    runner = run_runner(config, runner)
    mining = config.mining.model_copy(update={"model": model or config.base_model, "inference": runner.inference})
    mined = mine_negatives(ws, mining, force=force, runner=runner)
    print_mining_summary(mined.report, console)
    return StageResult.recorded(ws, "mine", mined, reused=mined.report.reused)


def teach(ws: Workspace, config: RunConfig, *, round: int = 1, force: bool = False, runner: Runner | None = None,
          console: Console | None = None) -> StageResult[TeachResult]:
    """Teacher labels for the mined rows, for training to distil."""
    console = _header(f"teach (round {round})", console)
    taught = teach_rows(ws, config.teach, config.base_model, force=force, runner=run_runner(config, runner))
    r = taught.report
    console.print(f"teacher {r['teacher']}: {r['rows_out']:,} of {r['rows_in']:,} rows kept "
                  f"({r['dropped_inconsistent']:,} whose positive it ranks low, "
                  f"{r['false_negatives_dropped']:,} false negatives dropped)", highlight=False)
    return StageResult.recorded(ws, "teach", taught, reused=taught.reused)


def train(ws: Workspace, config: RunConfig, *, round: int = 1, force: bool = False,
          console: Console | None = None) -> StageResult[TrainResult]:
    """The base model fine-tuned on the round's rows (mined triplets when mining is on); ``train/model``."""
    console = _header(f"train (round {round})", console)
    result = train_stage(ws, config.base_model, config.train_config(), config.mine, force=force)
    if result is not None:
        console.print(f"trained {result.steps} steps on {result.train_rows:,} rows in {result.seconds:.0f}s")
    return StageResult.recorded(ws, "train", result, reused=result is None)
