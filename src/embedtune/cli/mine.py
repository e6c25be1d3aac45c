"""``embedtune mine``: hard negatives for the training pairs of a workspace (or a BEIR folder's split)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from embedtune.cli.options import InferenceOpt, RayAddressOpt, quiet_libraries, make_runner

from embedtune.errors import EmbedtuneError
from embedtune.models.registry import DEFAULT_MODEL
from embedtune.progress import make_console

FILTERS = "False-negative filters"
CE = "Cross-encoder check"


def _opt(*names: str, text: str, panel: str | None = None):
    return typer.Option(*names, help=text, rich_help_panel=panel)


def mine_command(
    workspace: Annotated[Path, _opt(
        "--workspace", "-w", text="Run folder: reads chunks.jsonl + train_pairs.jsonl, writes train_triplets.jsonl.")],
    model: Annotated[str, _opt(
        "--model", "-m", text="Mining model: registry name, folder (e.g. runs/x/model for round 2) or cached hub id.")
    ] = DEFAULT_MODEL,
    bm25: Annotated[bool, _opt("--bm25", text="Mine with BM25 scores instead of a dense model.")] = False,
    dataset: Annotated[Path | None, _opt(
        "--dataset", text="BEIR folder instead of the workspace's inputs: its queries, qrels and corpus.")] = None,
    split: Annotated[str, _opt("--split", text="qrels split of --dataset.")] = "train",
    num_negatives: Annotated[int, _opt(
        "--num-negatives", "-n", text="Negatives per (query, positive) row (1-40).")] = 7,
    sampling: Annotated[str, _opt(
        "--sampling", text="top (hardest survivors) or random (seeded sample of survivors).")] = "top",
    range_min: Annotated[int, _opt(
        "--range-min", text="Skip this many top-ranked non-positive candidates.", panel=FILTERS)] = 0,
    range_max: Annotated[int, _opt(
        "--range-max", text="Candidates retrieved per query (top-N).", panel=FILTERS)] = 100,
    percpos: Annotated[float, _opt(
        "--percpos", text="topk-percpos: keep candidates below this fraction of the positive's score.",
        panel=FILTERS)] = 0.95,
    no_percpos: Annotated[bool, _opt("--no-percpos", text="Turn the percpos filter off.", panel=FILTERS)] = False,
    margin: Annotated[float | None, _opt(
        "--margin", text="topk-marginpos: keep candidates below the positive's score minus this.",
        panel=FILTERS)] = None,
    max_score: Annotated[float | None, _opt(
        "--max-score", text="topk-abs: keep candidates below this score.", panel=FILTERS)] = None,
    positive_reference: Annotated[str, _opt(
        "--positive-reference", text="min (the query's weakest positive) or own (the row's positive).",
        panel=FILTERS)] = "min",
    auto_threshold: Annotated[bool, _opt(
        "--auto-threshold", text="Pick percpos (or margin) from the estimated false-negative rate.",
        panel=FILTERS)] = False,
    max_false_negative_rate: Annotated[float, _opt(
        "--max-false-negative-rate", text="Target of --auto-threshold.", panel=FILTERS)] = 0.05,
    cross_encoder: Annotated[str | None, _opt(
        "--cross-encoder", text="Cross-encoder folder re-reading the negatives.", panel=CE)] = None,
    ce_threshold: Annotated[float | None, _opt(
        "--ce-threshold", text="CE score at or above which a candidate is relevant.", panel=CE)] = None,
    ce_relative: Annotated[float, _opt(
        "--ce-relative", text="Relevant at this fraction of the weakest positive's CE score (0 = off).",
        panel=CE)] = 0.9,
    relabel: Annotated[bool, _opt(
        "--relabel", text="Keep CE-relevant candidates as extra positives instead of dropping them.",
        panel=CE)] = False,
    seed: Annotated[int, _opt("--seed", text="Seed for random sampling and calibration samples.")] = 0,
    batch_size: Annotated[int, _opt("--batch-size", text="Texts per forward pass.")] = 64,
    force: Annotated[bool, _opt("--force", text="Mine again even when the stage is current.")] = False,
    inference: InferenceOpt = None,
    ray_address: RayAddressOpt = None,
) -> None:
    """Mine hard negatives with positive-aware false-negative filters; writes train_triplets.jsonl and a report."""
    from pydantic import ValidationError

    from embedtune.mining import MiningConfig, mine, print_mining_summary

    runner = make_runner(inference, ray_address)
    try:
        config = MiningConfig(
            model=model, bm25=bm25, range_min=range_min, range_max=range_max,
            percpos=None if no_percpos else percpos, margin=margin, max_score=max_score,
            positive_reference=positive_reference, num_negatives=num_negatives, sampling=sampling, seed=seed,
            cross_encoder=cross_encoder, ce_threshold=ce_threshold, ce_relative=ce_relative or None,
            relabel=relabel, auto_threshold=auto_threshold, max_false_negative_rate=max_false_negative_rate,
            batch_size=batch_size, inference=runner.inference,
        )
    except ValidationError as e:
        err = e.errors()[0]
        where = f"--{str(err['loc'][0]).replace('_', '-')}: " if err["loc"] else ""
        raise EmbedtuneError(f"invalid mining option: {where}{err['msg']}") from None
    quiet_libraries()
    result = mine(workspace, config, dataset=dataset, split=split, force=force, runner=runner)
    if not result.report.reused:
        print_mining_summary(result.report, make_console())
        typer.echo(f"wrote {result.triplets_path}, {result.report_path.name} and {result.html_path.name}")


def register(app: typer.Typer) -> None:
    app.command("mine")(mine_command)
