"""Feedback-loop commands: ``feedback import``, ``retrain``, ``history``, ``drift``, ``ab report``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from embedtune.cli.options import quiet_libraries
from embedtune.errors import EmbedtuneError
from embedtune.progress import make_console

feedback_app = typer.Typer(name="feedback", help="Feedback logs: import your own search logs.",
                           no_args_is_help=True)
ab_app = typer.Typer(name="ab", help="A/B tests between two index versions.", no_args_is_help=True)


def _opt(*names: str, text: str):
    return typer.Option(*names, help=text)


def _save_json(path: Path | None, data: dict) -> None:
    if path is not None:
        from embedtune.workspace import write_json

        write_json(path, data)
        typer.echo(f"wrote {path}")


@feedback_app.command("import")
def import_command(
    source: Annotated[Path, typer.Argument(help="Your log: JSON lines, one search per line.")],
    out: Annotated[Path, _opt("--out", "-o", text="Feedback log to write (embedtune's format).")],
    mapping: Annotated[str | None, _opt(
        "--map", text="OUR=THEIRS field names, comma-separated: query=q,results=shown,clicks=clicked,timestamp=ts "
        "(also index, arm, user, session, search_id, action; dotted paths reach into objects).")] = None,
    skip_bad: Annotated[bool, _opt(
        "--skip-bad", text="Skip bad rows (each reported as file:line) instead of stopping at the first.")] = False,
) -> None:
    """Convert your own search/click logs into embedtune's feedback log format."""
    from embedtune.feedback.importer import import_log, parse_mapping

    report = import_log(source, parse_mapping(mapping), out, skip_bad=skip_bad)
    for line in report.bad[:20]:
        typer.echo(f"skipped {line}", err=True)
    if len(report.bad) > 20:
        typer.echo(f"... and {len(report.bad) - 20} more bad rows", err=True)
    typer.echo(f"wrote {report.written:,} of {report.read:,} searches to {out}"
               + (f" ({len(report.bad):,} bad rows skipped)" if report.bad else ""))


def retrain_command(
    workspace: Annotated[Path, _opt("--workspace", "-w", text="Pipeline workspace (chunks, train pairs, eval/).")],
    feedback: Annotated[Path, _opt("--feedback", text="Feedback log (from `serve --feedback-log` or an import).")],
    config: Annotated[Path | None, _opt(
        "--config", text="YAML with retrain settings (a `retrain:` section of embedtune.yaml, or the whole file).")
    ] = None,
    model: Annotated[str | None, _opt(
        "--model", text="Current model, when the workspace has no trained model or history yet.")] = None,
    weighting: Annotated[str | None, _opt("--weighting", text="ipw or naive (overrides the config).")] = None,
    feedback_share: Annotated[float | None, _opt(
        "--feedback-share", text="Share of training rows from feedback, 0-1 (overrides the config).")] = None,
) -> None:
    """Train the next model version on IPW-weighted clicks + synthetic pairs; promote it only if it does not regress."""

    from embedtune.feedback.retrain import retrain
    from embedtune.feedback.retrain_config import RetrainConfig, load_retrain_config

    cfg = load_retrain_config(config) if config is not None else RetrainConfig()
    updates = {k: v for k, v in {"weighting": weighting, "feedback_share": feedback_share}.items() if v is not None}
    if updates:
        cfg = RetrainConfig.model_validate(cfg.model_dump() | updates)
    quiet_libraries()
    result = retrain(workspace, feedback, cfg, model=model, console=make_console(stderr=True))
    rec = result.record
    for reason in rec.reasons:
        typer.echo(f"  {reason}")
    verdict = "PROMOTED" if rec.promoted else "NOT promoted (current model kept)"
    typer.echo(f"round {rec.round}: {verdict}; candidate {rec.candidate_model}")
    if rec.promoted:
        typer.echo(f"next: embedtune index build --store STORE --name retrain-{rec.round} "
                   f"--model {rec.candidate_model} -w {workspace}")


def history_command(
    workspace: Annotated[Path, _opt("--workspace", "-w", text="Workspace with retrain_history.json.")],
    json_out: Annotated[Path | None, _opt("--json", text="Write the history as JSON here.")] = None,
) -> None:
    """Show every retraining round: data, propensities, metrics and whether it was promoted."""
    from rich.table import Table

    from embedtune.feedback.history import load_history

    history = load_history(workspace)
    if not history.rounds:
        typer.echo(f"{workspace}: no retraining rounds yet (run `embedtune retrain`)")
        return
    table = Table(title=f"Retraining rounds ({workspace})")
    for col in ("round", "finished", "searches", "pairs", "golden", "feedback", "promoted"):
        table.add_column(col, justify="right" if col not in ("finished", "promoted") else "left")

    def cell(m: dict | None) -> str:
        if not m:
            return "-"
        return f"{m['reference_mean']:.4f} -> {m['system_mean']:.4f} ({m['delta']:+.4f})"

    for r in history.rounds:
        table.add_row(str(r.round), r.finished_at[:19], f"{r.searches.get('train', 0):,}/{r.searches.get('holdout', 0):,}",
                      f"{r.pairs.get('click_pairs', 0):,}", cell(r.metrics.get("golden")),
                      cell(r.metrics.get("feedback")), "[green]yes[/]" if r.promoted else "[red]no[/]")
    console = make_console()
    console.print(table)
    console.print(f"current model: {history.current_model}", highlight=False)
    last = history.rounds[-1]
    if last.propensity:
        curve = " ".join(f"{t:.2f}" for t in last.propensity["propensity"])
        console.print(f"round {last.round} position bias ({last.propensity['method']}): {curve}", highlight=False)
    _save_json(json_out, history.model_dump(mode="json"))


def drift_command(
    workspace: Annotated[Path, _opt("--workspace", "-w", text="Workspace: its train_pairs.jsonl queries and model.")],
    feedback: Annotated[Path, _opt("--feedback", text="Feedback log; its newest searches are 'recent'.")],
    model: Annotated[str | None, _opt("--model", text="Embedding model (default: the current one).")] = None,
    recent_share: Annotated[float, _opt("--recent-share", text="Newest share of the log that is recent.")] = 0.3,
    alpha: Annotated[float, _opt("--alpha", text="Significance level of the tests.")] = 0.01,
    json_out: Annotated[Path | None, _opt("--json", text="Write the report as JSON here.")] = None,
) -> None:
    """Compare recent queries with the training queries and say whether a retrain is due (exit code 0 either way)."""
    from embedtune.feedback.drift import DriftConfig, drift_report
    from embedtune.feedback.history import current_model
    from embedtune.feedback.log import read_log
    from embedtune.models import load_embedder
    from embedtune.retrieval.embedding_cache import encode_texts
    from embedtune.workspace.artifacts import TRAIN_PAIRS

    train_queries = [p.query for p in TRAIN_PAIRS.iter(workspace)]
    quiet_libraries()
    encoder = load_embedder(model or current_model(workspace))
    report = drift_report(train_queries, read_log(feedback),
                          lambda texts: encode_texts(encoder, texts, "query", progress=False),
                          DriftConfig(recent_share=recent_share, alpha=alpha))
    typer.echo(f"recent searches {report.recent_queries:,} vs {report.training_queries:,} training queries")
    typer.echo(f"  embedding shift: MMD² {report.mmd2:.4f} (p = {report.mmd_p_value:.3g}), "
               f"centroid distance {report.centroid_distance:.4f}")
    typer.echo(f"  new vocabulary: {report.new_vocab_share:.1%} of recent query words")
    if report.zero_click_recent is not None:
        typer.echo(f"  zero-click rate: {report.zero_click_before:.1%} before, {report.zero_click_recent:.1%} recent "
                   f"(p = {report.zero_click_p_value:.3g})")
    for flag in report.flags:
        typer.echo(f"  ! {flag}")
    typer.echo("retrain due: yes" if report.retrain_due else "retrain due: no")
    _save_json(json_out, report.to_json())


@ab_app.command("report")
def ab_report_command(
    feedback: Annotated[Path, _opt("--feedback", text="Feedback log of the A/B test.")],
    arms: Annotated[str | None, _opt(
        "--arms", text="CONTROL,CANDIDATE (default: from the log's experiment).")] = None,
    alpha: Annotated[float, _opt("--alpha", text="Significance level.")] = 0.05,
    primary: Annotated[str, _opt("--metric", text="Decision metric of a split test: mrr or ctr.")] = "mrr",
    json_out: Annotated[Path | None, _opt("--json", text="Write the report as JSON here.")] = None,
) -> None:
    """Per-arm CTR and MRR of clicks with confidence intervals, a significance test, and a recommendation."""
    from rich.table import Table

    from embedtune.feedback.ab_report import ab_report
    from embedtune.feedback.log import read_log

    if primary not in ("mrr", "ctr"):
        raise EmbedtuneError(f"--metric must be mrr or ctr, got {primary!r}")
    pair = None
    if arms is not None:
        names = tuple(a.strip() for a in arms.split(","))
        if len(names) != 2 or not all(names):
            raise EmbedtuneError(f"--arms {arms!r}: give two arm names, CONTROL,CANDIDATE")
        pair = names
    report = ab_report(read_log(feedback), pair, alpha=alpha, primary=primary)  # type: ignore[arg-type]
    console = make_console()
    if report.interleaving is not None:
        i = report.interleaving
        console.print(f"interleaving {report.arms[0]} vs {report.arms[1]}: {i.searches:,} searches; "
                      f"{report.arms[1]} wins {i.wins:,}, loses {i.losses:,}, ties {i.ties:,}; "
                      f"credit {i.credit:+.4f}, sign test p = {i.p_value:.3g}", highlight=False)
    else:
        level = f"{1 - alpha:.0%} CI"
        table = Table(title=f"A/B split ({report.mode}); unit = user (else session, else search)")
        for col in ("arm", "searches", "units", "CTR", level, "MRR", level + " "):
            table.add_column(col, justify="right")
        for s in report.arm_stats:
            table.add_row(s.arm, f"{s.searches:,}", f"{s.units:,}", f"{s.ctr:.4f}",
                          f"{s.ctr_ci[0]:.4f}-{s.ctr_ci[1]:.4f}", f"{s.mrr:.4f}", f"{s.mrr_ci[0]:.4f}-{s.mrr_ci[1]:.4f}")
        console.print(table)
        console.print("  ".join(f"{m} delta {report.delta[m]:+.4f} (Welch p = {report.p_values[m]:.3g})"
                                for m in ("ctr", "mrr")), highlight=False)
    console.print(f"recommendation: {report.recommendation}", highlight=False)
    _save_json(json_out, report.to_json())


def register(app: typer.Typer) -> None:
    app.add_typer(feedback_app, name="feedback")
    app.add_typer(ab_app, name="ab")
    app.command("retrain")(retrain_command)
    app.command("history")(history_command)
    app.command("drift")(drift_command)
