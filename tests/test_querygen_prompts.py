"""Prompt templates (packaged, overridden, validated), prompt hashes, examples files, and reply parsing."""

from __future__ import annotations

import json

import pytest

from embedtune.errors import EmbedtuneError, InputError
from embedtune.querygen import STYLES, PromptSet, parse_query_list, parse_single
from embedtune.querygen.parsing import ParseError
from embedtune.querygen.prompts import load_examples


@pytest.mark.parametrize("family", ["list", "single"])
def test_every_style_has_a_packaged_template(family):
    prompts = PromptSet(family, list(STYLES), domain="cell biology", examples=["p53 in cancer", "what causes MDS"])
    messages = prompts.render("multihop", "Title", "First passage.", 3, neighbour="Second passage.")
    text = "\n".join(m["content"] for m in messages)
    assert "First passage." in text and "Second passage." in text and "cell biology" in text and "- p53 in cancer" in text
    if family == "single":
        assert messages[-1]["role"] == "assistant"  # the pre-fill the small model continues
    else:
        assert "JSON list of 3" in text and messages[-1]["role"] == "user"


def test_single_question_prompt_puts_the_passage_first_and_prefills_the_answer():
    messages = PromptSet("single", ["question"], max_passage_chars=900).render("question", "T", "Body " * 400, 1)
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[0]["content"].startswith("Passage: T. Body") and messages[1]["content"] == "Question: What"
    passage = messages[0]["content"].split("\n")[0]
    assert len(passage) <= len("Passage: ") + 900 and passage.endswith("Body")  # cut at a word boundary


def test_prompt_hash_tracks_template_and_fixed_values_not_the_chunk(tmp_path):
    base = PromptSet("list", ["question", "keyword"])
    assert base.prompt_hash("question", 3) == PromptSet("list", ["question"]).prompt_hash("question", 3)
    assert base.prompt_hash("question", 3) != base.prompt_hash("question", 2)
    assert base.prompt_hash("question", 3) != PromptSet("list", ["question"], domain="law").prompt_hash("question", 3)
    assert base.prompt_hash("question", 3) != PromptSet("list", ["question"], params={"t": 1}).prompt_hash("question", 3)

    (tmp_path / "list").mkdir()
    (tmp_path / "list" / "keyword.txt").write_text("<<<user>>>\nKeywords for: $passage ($n)\n")
    custom = PromptSet("list", ["question", "keyword"], prompt_dir=tmp_path)
    assert custom.prompt_hash("question", 3) == base.prompt_hash("question", 3)  # not overridden
    assert custom.prompt_hash("keyword", 3) != base.prompt_hash("keyword", 3)
    assert custom.render("keyword", "", "a $dollar passage", 2) == [
        {"role": "user", "content": "Keywords for: a $dollar passage (2)"}]


def test_bad_templates_and_examples_are_one_line_errors(tmp_path):
    (tmp_path / "list").mkdir()
    (tmp_path / "list" / "question.txt").write_text("Question about $pasage")
    with pytest.raises(InputError, match=r"question.txt: unknown placeholder \$pasage"):
        PromptSet("list", ["question"], prompt_dir=tmp_path)
    (tmp_path / "list" / "question.txt").write_text("No passage here")
    with pytest.raises(InputError, match="never uses \\$passage"):
        PromptSet("list", ["question"], prompt_dir=tmp_path)
    with pytest.raises(EmbedtuneError, match="prompt folder not found"):
        PromptSet("list", ["question"], prompt_dir=tmp_path / "missing")
    with pytest.raises(EmbedtuneError, match="no list prompt for style 'riddle'"):
        PromptSet("list", ["riddle"])

    with pytest.raises(InputError, match="queries file not found"):
        load_examples(tmp_path / "nope.jsonl")
    (tmp_path / "bad.jsonl").write_text('{"text": "ok"}\n{"_id": "2"}\n')
    with pytest.raises(InputError, match=r"bad.jsonl:2: expected a \"text\" field"):
        load_examples(tmp_path / "bad.jsonl")
    (tmp_path / "empty.txt").write_text("\n \n")
    with pytest.raises(InputError, match="no queries in file"):
        load_examples(tmp_path / "empty.txt")
    (tmp_path / "many.jsonl").write_text("".join(json.dumps({"_id": str(i), "text": f"q {i}"}) + "\n" for i in range(20)))
    assert load_examples(tmp_path / "many.jsonl") == [f"q {i}" for i in range(8)]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('["What is p53?", "How does MDS start?"]', ["What is p53?", "How does MDS start?"]),
        ('Sure! Here you go:\n```json\n["a b c", "d e f"]\n```\nHope this [helps].', ["a b c", "d e f"]),
        ('{"queries": [{"query": "x y"}, {"question": "z w"}]}', ["x y", "z w"]),
        ("1. What is X?\n2) 'How does Y work?'\n- Z facts", ["What is X?", "How does Y work?", "Z facts"]),
        ('["same", "Same", "other", "third", "fourth"]', ["same", "other", "third"]),  # deduplicated, cut to n
        ('Queries:\n["Question: what is it?"]', ["what is it?"]),
    ],
)
def test_parse_query_list(reply, expected):
    assert parse_query_list(reply, 3) == expected


def test_parse_failures_and_single_completions():
    for reply in ["", "   ", "[]", '{"note": 1}']:
        with pytest.raises(ParseError):
            parse_query_list(reply, 3)
    assert parse_single("Question: What is the role of TRP channels?\n\nPossible answers: 1. ...") == (
        "What is the role of TRP channels?")
    assert parse_single("Question: What are the roles of p53? And what else?") == "What are the roles of p53?"
    assert parse_single("Question: What") == "What"


@pytest.mark.parametrize(
    ("completion", "expected"),
    [  # what SmolLM2-135M wrote for the claim prompt on SciFact abstracts
        ("Finding: The main finding of the passage is that FMNL2 is a key driver of lumen formation.",
         "FMNL2 is a key driver of lumen formation."),
        ("Finding: Protein restriction in pregnancy alters liver lipid metabolism.",
         "Protein restriction in pregnancy alters liver lipid metabolism."),
        ('Claim: "The study supports the notion that sex hormones regulate lifespan.', "Sex hormones regulate lifespan."),
        ("Claim: This passage supports the claim that MYC modulates the clock.", "MYC modulates the clock."),
        ("The study was small.", "The study was small."),  # no "that": not a lead-in, kept as written
    ],
)
def test_single_claims_lose_their_label_and_lead_in(completion, expected):
    assert parse_single(completion) == expected
