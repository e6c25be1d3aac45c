"""The feedback log format and `embedtune feedback import`: mapping, shapes, and bad rows named file:line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embedtune.errors import EmbedtuneError, InputError
from embedtune.feedback import read_log
from embedtune.feedback.importer import import_log, parse_mapping


def write(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


ROWS = [
    {"q": "what causes scurvy", "shown": ["d1", "d2", "d3"], "clicked": ["d2"], "ts": 1735689600, "uid": 7},
    {"q": "vitamin c", "shown": [{"id": "d4", "rank": 1}, {"id": "d5", "rank": 2}],
     "clicked": [{"id": "d5", "dwell": 12.0, "action": "copied"}], "ts": "2025-01-02T10:00:00", "meta": {"v": "v2"}},
]
MAP = "query=q,results=shown,clicks=clicked,timestamp=ts,user=uid,index=meta.v"


def test_import_maps_fields_and_shapes(tmp_path: Path) -> None:
    out = tmp_path / "feedback.jsonl"
    report = import_log(write(tmp_path / "mine.jsonl", ROWS), parse_mapping(MAP), out)
    assert (report.read, report.written, report.bad) == (2, 2, [])
    first, second = read_log(out)
    assert first.query == "what causes scurvy" and first.user == "7" and first.timestamp.year == 2025
    assert [(r.id, r.position) for r in first.results] == [("d1", 1), ("d2", 2), ("d3", 3)]
    assert [c.id for c in first.clicks] == ["d2"]
    assert second.index == "v2" and second.clicks[0].dwell_s == 12.0 and second.clicks[0].action == "copied"
    line = json.loads(out.read_text().splitlines()[0])
    assert line["format"] == 1 and "swap" not in line and "arm" not in line["results"][0]  # unknown extras left out


def test_first_bad_row_stops_the_import_naming_file_and_line(tmp_path: Path) -> None:
    src = write(tmp_path / "mine.jsonl", [ROWS[0], {"q": "x", "shown": ["a"], "clicked": ["zz"], "ts": 1}])
    with pytest.raises(InputError, match=r"mine\.jsonl:2: .*click on 'zz', which is not among the results shown"):
        import_log(src, parse_mapping(MAP), tmp_path / "out.jsonl")


def test_skip_bad_keeps_the_good_rows(tmp_path: Path) -> None:
    bad = [ROWS[0], "{not json", {"shown": ["a"], "ts": 1}, {"q": "x", "shown": "a", "ts": 1},
           {"q": "x", "shown": ["a", "a"], "ts": 1}, {"q": "x", "shown": ["a"]}, ROWS[1]]
    report = import_log(write(tmp_path / "mine.jsonl", bad), parse_mapping(MAP), tmp_path / "out.jsonl", skip_bad=True)
    assert (report.read, report.written) == (7, 2)
    assert [b.split(": ", 1)[0] for b in report.bad] == [f"{tmp_path / 'mine.jsonl'}:{i}" for i in (2, 3, 4, 5, 6)]
    assert "malformed JSON" in report.bad[0] and "query: missing" in report.bad[1]
    assert "listed twice" in report.bad[3] and "timestamp: missing" in report.bad[4]


def test_bad_mapping_is_one_line() -> None:
    with pytest.raises(EmbedtuneError, match="unknown field 'qury'"):
        parse_mapping("qury=q")
    with pytest.raises(EmbedtuneError, match="OUR_FIELD=THEIR_FIELD"):
        parse_mapping("query")


def test_read_log_names_the_bad_line(tmp_path: Path) -> None:
    good = {"timestamp": "2025-01-01T00:00:00Z", "query": "q", "results": [{"id": "a", "position": 1}]}
    path = write(tmp_path / "log.jsonl", [good, good | {"swap": [1, 3]}])
    with pytest.raises(InputError, match=r"log\.jsonl:2: swap \[1, 3\] is not two adjacent positions"):
        read_log(path)
    write(path, [good, {"query": "q"}])
    with pytest.raises(InputError, match=r"log\.jsonl:2: timestamp: this field is required"):
        read_log(path)


def test_cli_import(tmp_path: Path, cli) -> None:
    src = write(tmp_path / "mine.jsonl", [ROWS[0], "[1, 2]", ROWS[1]])
    out = tmp_path / "fb.jsonl"
    code, stdout, stderr = cli("feedback", "import", src, "--map", MAP, "--out", out)
    assert code == 2 and "mine.jsonl:2: expected a JSON object" in stdout + stderr
    code, stdout, stderr = cli("feedback", "import", src, "--map", MAP, "--out", out, "--skip-bad")
    assert code == 0 and "wrote 2 of 3 searches" in stdout and "mine.jsonl:2" in stderr
    assert len(read_log(out)) == 2
