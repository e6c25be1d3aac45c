"""Turn an LLM's reply into clean query strings, whatever wrapping the model put around them.

Chat models asked for "a JSON list" answer with code fences, a preamble, trailing notes, objects instead of
strings, numbered lines, or a different count than asked. Small completion models run on past the question.
"""

from __future__ import annotations

import json
import re

_FENCE = re.compile(r"```[a-zA-Z]*\s*\n?(.*?)```", re.DOTALL)
_LIST_MARKER = re.compile(r"^\s*(?:[-*•]|\(?\d{1,2}[.):])\s+")
_LABEL = re.compile(r"^\s*(?:question|query|search query|claim|finding|q)\s*\d*\s*[:：]\s*", re.IGNORECASE)
# Small models start a claim by talking about the text ("The main finding of this passage is that X"): keep X.
_LEAD_IN = re.compile(
    r"^(?:the|this|our)\s+(?:main\s+|key\s+|primary\s+)?(?:finding|result|claim|conclusion|study|passage|paper|text)s?"
    r"(?:\s+of\s+(?:the|this)\s+(?:passage|study|paper|text))?\s+(?:is|are|was|supports?|shows?|confirms?|suggests?|finds?)"
    r"(?:\s+the\s+(?:claim|idea|notion|finding|conclusion)s?)?\s+that\s+",
    re.IGNORECASE,
)
_QUOTES = "\"'“”‘’`"
_ITEM_KEYS = ("query", "question", "text", "q")


class ParseError(ValueError):
    """The reply holds no usable query."""


def clean_query(text: str) -> str:
    """One line, no list marker, label or surrounding quotes, single spaces."""
    line = text.strip().split("\n", 1)[0]
    line = _LIST_MARKER.sub("", line)
    line = _LABEL.sub("", line)
    line = " ".join(line.strip().strip(_QUOTES).split())
    if (lead := _LEAD_IN.match(line)) and len(rest := line[lead.end():]) > 1:
        line = rest[0].upper() + rest[1:]
    return line


def _items(value: object) -> list[str] | None:
    """The strings of a decoded JSON list (or of the first list inside an object), else None."""
    if isinstance(value, dict):
        value = next((v for v in value.values() if isinstance(v, list)), None)
    if not isinstance(value, list):
        return None
    out = []
    for item in value:
        if isinstance(item, dict):
            item = next((item[k] for k in _ITEM_KEYS if isinstance(item.get(k), str)), None)
        if isinstance(item, str):
            out.append(item)
    return out or None


def _json_items(text: str) -> list[str] | None:
    """Decode the first JSON list or object in ``text`` that holds strings, ignoring text around it."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"[\[{]", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except json.JSONDecodeError:
            continue
        if (items := _items(value)) is not None:
            return items
    return None


def parse_query_list(reply: str, n: int) -> list[str]:
    """At most ``n`` distinct cleaned queries from a chat reply that was asked for a JSON list of strings.

    Fewer than ``n`` is not an error (the caller counts the shortfall); no query at all raises ParseError.
    """
    fenced = _FENCE.findall(reply)
    items = None
    for candidate in (*fenced, reply):
        if (items := _json_items(candidate)) is not None:
            break
    if items is None:  # no JSON list of strings: fall back to one query per line
        body = fenced[0] if fenced else reply
        items = [
            line for line in body.splitlines()
            # Skip JSON debris, headings ("Here are the queries:") and lines with no words.
            if re.search(r"[^\W\d_]", line) and not line.lstrip().startswith(("[", "{", "]", "}"))
            and not line.rstrip().endswith(":")
        ]
    out: list[str] = []
    for item in items:
        query = clean_query(item)
        if query and query.lower() not in {q.lower() for q in out}:
            out.append(query)
    if not out:
        raise ParseError(f"no query in reply: {reply[:80]!r}")
    return out[:n]


def parse_single(completion: str) -> str:
    """The one question a completion model wrote (prefill included): first line, cut after the first '?'.

    Small models keep going after the question ("Possible answers: ..."), so everything after it is dropped.
    """
    query = clean_query(completion)
    if "?" in query:
        query = query[: query.index("?") + 1]
    return query
