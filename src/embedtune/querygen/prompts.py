"""Prompt templates per query style, overridable from a folder, with a domain hint and few-shot examples.

Templates are plain text files ``<family>/<style>.txt`` (packaged in ``embedtune/querygen/templates/``). The
*list* family asks a chat model for ``$n`` queries as a JSON list (OpenAI-compatible backends); the *single*
family asks for one question and pre-fills the start of the answer, the shape that tiny local models such as
SmolLM2-135M follow (passage first, instruction after, answer begun with "Question: What"). A ``--prompt-dir``
holding ``single/question.txt`` replaces just that one.

A template is split into chat messages by lines ``<<<system>>>``, ``<<<user>>>`` and ``<<<assistant>>>`` (text
before any marker is the user message); a final assistant message is a pre-fill the model continues. Placeholders
(``string.Template``, so JSON braces need no escaping): ``$passage`` (title and text of the chunk), ``$title``,
``$neighbour`` (the next chunk of the same document, multi-hop only), ``$n``, ``$domain`` (a sentence built from
the domain hint, or empty) and ``$examples`` (the user's real queries as a bulleted block, or empty).

Few-shot examples of real queries follow Promptagator (Dai et al. 2022, "Promptagator: Few-shot Dense Retrieval
From 8 Examples"): a handful of the users' own queries steers the style better than any instruction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any, Literal

from embedtune.errors import EmbedtuneError, InputError
from embedtune.hashing import sha256_json
from embedtune.querygen.query import read_query_texts

Family = Literal["list", "single"]
STYLES = ("question", "claim", "keyword", "detailed", "paraphrase", "multihop")
PLACEHOLDERS = frozenset({"passage", "title", "neighbour", "n", "domain", "examples"})
# Filled per chunk; everything else is fixed for a run and so part of the prompt hash.
_PER_CHUNK = ("passage", "title", "neighbour")
_MARKER = re.compile(r"^<<<(system|user|assistant)>>>\s*$", re.MULTILINE)
MAX_EXAMPLES = 8


@dataclass(frozen=True)
class PromptTemplate:
    """One style's template text and where it came from (for error messages)."""

    style: str
    family: Family
    text: str
    source: str

    @classmethod
    def load(cls, style: str, family: Family, prompt_dir: Path | None = None) -> PromptTemplate:
        """The user's ``prompt_dir/<family>/<style>.txt`` if present, else the packaged default."""
        rel = f"{family}/{style}.txt"
        if prompt_dir is not None:
            if not prompt_dir.is_dir():
                raise EmbedtuneError(f"{prompt_dir}: prompt folder not found")
            if (path := prompt_dir / rel).is_file():
                return cls._checked(style, family, path.read_text(encoding="utf-8"), str(path))
        packaged = resources.files("embedtune.querygen") / "templates" / rel
        if not packaged.is_file():
            raise EmbedtuneError(f"no {family} prompt for style {style!r}; styles: {', '.join(STYLES)}")
        return cls._checked(style, family, packaged.read_text(encoding="utf-8"), f"<packaged {rel}>")

    @classmethod
    def _checked(cls, style: str, family: Family, text: str, source: str) -> PromptTemplate:
        names = {m.group("named") or m.group("braced") for m in Template.pattern.finditer(text)} - {None}
        if unknown := names - PLACEHOLDERS:
            raise InputError(source, f"unknown placeholder ${sorted(unknown)[0]}; use {', '.join(sorted(PLACEHOLDERS))}")
        if "passage" not in names:
            raise InputError(source, "template never uses $passage")
        return cls(style, family, text, source)

    def messages(self, values: dict[str, str]) -> list[dict[str, str]]:
        """Chat messages with every placeholder filled; a trailing assistant message is a pre-fill."""
        # Split before filling in, so a passage that happens to contain a marker line cannot add a message.
        parts = _MARKER.split(self.text)
        pairs = [("user", parts[0]), *zip(parts[1::2], parts[2::2])]
        out = []
        for role, part in pairs:
            # Blank lines left by an empty $domain or $examples are collapsed.
            content = re.sub(r"\n{3,}", "\n\n", Template(part).safe_substitute(values).strip())
            if content or role == "assistant":
                out.append({"role": role, "content": content})
        return out


def _cut(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending at a word boundary."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    return head.rsplit(None, 1)[0] if " " in head else head


def load_examples(path: Path) -> list[str]:
    """Up to eight real user queries for few-shot prompting (a BEIR ``queries.jsonl`` or one per line)."""
    return read_query_texts(path)[:MAX_EXAMPLES]


class PromptSet:
    """The templates of one family for the chosen styles, with the run's fixed values filled in."""

    def __init__(
        self,
        family: Family,
        styles: tuple[str, ...] | list[str],
        *,
        prompt_dir: Path | None = None,
        domain: str = "",
        examples: list[str] | None = None,
        params: dict[str, Any] | None = None,
        max_passage_chars: int = 2000,
    ) -> None:
        self.family = family
        self.templates = {style: PromptTemplate.load(style, family, prompt_dir) for style in styles}
        self.max_passage_chars = max_passage_chars
        self._fixed = {
            "domain": f"The documents are about: {domain.strip()}." if domain.strip() else "",
            "examples": (
                "Real queries from users of this collection (match their style and length):\n"
                + "\n".join(f"- {e}" for e in examples) + "\n"
                if examples else ""
            ),
        }
        self._params = dict(params or {}, max_passage_chars=max_passage_chars)

    def prompt_hash(self, style: str, n: int) -> str:
        """sha256 of the template with the run's fixed values filled in, plus the generation parameters.

        Per-chunk placeholders stay unfilled, so the hash names the prompt, not the chunk: editing one style's
        template changes only that style's hash, and so regenerates only its queries.
        """
        template = Template(self.templates[style].text).safe_substitute(self._fixed, n=str(n))
        return sha256_json({"template": template, "params": self._params})

    def render(self, style: str, title: str, text: str, n: int, neighbour: str = "") -> list[dict[str, str]]:
        """Chat messages for one chunk (and, for multi-hop, its neighbour)."""
        title = title.strip()
        passage = f"{title}{'' if title[-1:] in '.?!' else '.'} {text.strip()}" if title else text.strip()
        return self.templates[style].messages(
            {
                **self._fixed,
                "n": str(n),
                "title": title,
                "passage": _cut(passage, self.max_passage_chars),
                "neighbour": _cut(neighbour, self.max_passage_chars),
            }
        )
