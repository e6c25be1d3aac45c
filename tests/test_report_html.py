"""The HTML report builder: one self-contained file with escaped text, tables and inline PNG figures."""

from __future__ import annotations

import base64
import re

from embedtune.report import HtmlReport

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_report_has_sections_tables_and_inline_images(tmp_path):
    report = (
        HtmlReport("Eval <scifact>", "300 queries")
        .add_section("Verdict", "<p><b>likely</b></p>")
        .add_paragraph("BM25 & dense <tie>")
        .add_list(["first", "<second>"])
        .add_table([{"system": "bm25", "ndcg@10": 0.66, "n": 3}, {"system": "dense", "ndcg@10": 0.64, "n": 4}],
                   title="Metrics")
        .add_bar_chart({"bm25": {"ndcg@10": 0.66, "recall@10": 0.8}, "dense": {"ndcg@10": 0.64, "recall@10": 0.78}},
                       ["ndcg@10", "recall@10"], "Systems")
        .add_dim_curve({"minilm": {384: 0.645, 128: 0.60, 64: 0.48}}, "ndcg@10")
        .add_winloss([0.1, -0.2, 0.0, 0.3, 0.05], "hybrid", "dense", "ndcg@10")
    )
    path = report.save(tmp_path / "sub" / "report.html")
    html = path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert "<title>Eval &lt;scifact&gt;</title>" in html
    assert "<h2>Verdict</h2>" in html and "<p><b>likely</b></p>" in html  # section bodies are raw HTML
    assert "BM25 &amp; dense &lt;tie&gt;" in html and "<li>&lt;second&gt;</li>" in html  # text is escaped
    assert '<td class="best">0.6600</td>' in html and "<td class=\"\">0.6400</td>" in html
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 3 and all(base64.b64decode(i).startswith(PNG_MAGIC) for i in images)
    assert "<script" not in html and "<link" not in html and 'src="http' not in html  # nothing external
    assert not list((tmp_path / "sub").glob(".*tmp"))


def test_empty_and_text_only_reports_render():
    html = HtmlReport("Nothing yet").add_table([], title="empty").render()
    assert "<h1>Nothing yet</h1>" in html and "<table>" in html
