"""The parts of ``report.html`` that come from stages before the evaluation: the gate and the teacher.

The evaluation section says how the delivered model does on the eval queries; these say why that model was
delivered (the gate's alpha curve on the dev slice and out of domain, and its verdict) and what taught it (the
teacher, with its own dev NDCG@10 beside the base model's and hybrid's).
"""

from __future__ import annotations

from typing import Any

from embedtune.report import HtmlReport


def add_gate_section(html: HtmlReport, gate: dict[str, Any]) -> HtmlReport:
    """The gate's verdict, its alpha curve (dev and out-of-domain NDCG@10 per dim) and its explanation."""
    alpha = gate.get("chosen_alpha")
    delivered = {"merged": f"the merge at alpha = {alpha}", "tuned": "the tuned model", "base": "the base model"}
    html.add_section("Gate: what was delivered, and why")
    html.add_paragraph(f"Delivered: {delivered.get(gate['delivered'], gate['delivered'])} (exit status "
                       f"{gate['exit_code']}). Alpha 0 is base, 1 the tuned model; judged on the dev slice, never on "
                       "the eval queries above.")
    curve = gate.get("curve") or []
    if curve:
        rows = [{k: v for k, v in point.items() if k != "passes"} | {"passes": _passes(point.get("passes"))}
                for point in curve]
        html.add_table(rows, title="alpha curve: NDCG@10 on dev and out of domain, per dim")
        dims = [int(k.split("@")[1]) for k in curve[0] if k.startswith("dev@")]
        if dims:
            html.add_dim_curve({f"alpha {p['alpha']:g}": {d: p[f"dev@{d}"] for d in dims} for p in curve},
                               "ndcg@10", "dev NDCG@10 per dim, per alpha")
    html.add_list(list(gate.get("explanation") or []))
    return html


def _passes(value: bool | None) -> str:
    return "base" if value is None else "yes" if value else "no"


def add_teacher_section(html: HtmlReport, teach: dict[str, Any]) -> HtmlReport:
    """Which teacher labelled the training rows, how good it is on dev, and what it filtered."""
    html.add_section("Teacher")
    html.add_paragraph(f"{teach['teacher']}: {teach['rows_out']:,} of {teach['rows_in']:,} rows taught; "
                       f"{teach.get('false_negatives_dropped', 0):,} candidates it scored at or above the positive "
                       f"dropped as false negatives; {teach.get('dropped_inconsistent', 0):,} rows whose positive "
                       "it did not rank near the top dropped.")
    dev = teach.get("dev_ndcg@10")
    if dev:
        rows = [{"ranker": name, "dev ndcg@10": dev[name]} for name in ("base", "hybrid", "teacher") if name in dev]
        html.add_table(rows, title=f"the teacher's own quality: dev NDCG@10 at chunk level, {dev.get('queries')} queries")
    return html
