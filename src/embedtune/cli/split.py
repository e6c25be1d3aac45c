"""``embedtune split``: train / dev / eval sets from a workspace's chunks and queries, split by document."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from embedtune.workspace import default_workspace
from embedtune.progress import make_console


def split(
    workspace: Annotated[Path, typer.Option("--workspace", "-w", help="Run directory with chunks.jsonl and queries.jsonl.")] = default_workspace(),
    eval_dataset: Annotated[
        Path | None, typer.Option(help="BEIR folder whose queries + qrels are the eval set (doc ids = ingested doc ids).")
    ] = None,
    eval_split: Annotated[str, typer.Option(help="qrels split of --eval-dataset.")] = "test",
    eval_fraction: Annotated[float, typer.Option(help="Share of documents held out when there is no real eval set.")] = 0.2,
    dev_fraction: Annotated[float, typer.Option(help="Share of training documents kept for checkpoint selection.")] = 0.1,
    holdout_source: Annotated[str | None, typer.Option(help="Glob on source paths: matching documents form the eval set.")] = None,
    transductive: Annotated[
        bool, typer.Option(help="Let documents judged in the real eval set also get training queries.")
    ] = False,
    seed: int = 0,
) -> None:
    """Split queries by source document so no eval document is trained on; report near-duplicate leaks."""

    from embedtune.dataset import SplitConfig, build_split

    eval_queries = eval_qrels = None
    if eval_dataset is not None:
        from embedtune.evaluation.beir import load_beir

        data = load_beir(eval_dataset, eval_split)
        eval_queries, eval_qrels = data.queries, data.qrels
    cfg = SplitConfig(
        eval_fraction=eval_fraction, dev_fraction=dev_fraction, holdout_source=holdout_source,
        exclude_eval_docs=not transductive, seed=seed,
    )
    result = build_split(workspace, cfg, eval_queries, eval_qrels)
    console = make_console()
    if result is None:
        console.print("split is current, skipping")
        return
    r = result.report
    console.print(
        f"train {r['train_queries']:,} · dev {r['dev_queries']:,} · eval {r['eval_queries']:,} queries "
        f"({r['eval_source']}); eval documents: {r['eval_documents']:,} ({r['eval_documents_rule']}); "
        f"near-duplicates of eval queries dropped from training: {r['near_duplicates_of_eval_dropped']}"
    )
    if "warning" in r:
        console.print(f"[yellow]warning:[/] {r['warning']}")


def register(app: typer.Typer) -> None:
    app.command("split")(split)
