"""Library errors speak in parameters, not CLI flags (issue 21, item 5).

An error raised outside ``embedtune/cli/`` reaches Python users too, so it names the argument or config field they
set (``overlap_tokens``, ``MiningConfig.relabel``, ``ServeConfig.max_queue``), never a ``--flag``. The CLI's
flags are the same words, so one message serves both. A whole command in backticks (``run `embedtune ingest PATH
--workspace W` first``) is advice to run a command, not a parameter name, and stays.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import embedtune

SRC = Path(embedtune.__file__).parent
FLAG = re.compile(r"(?<![\w-])--(?:[a-z][a-z0-9-]*|\{\})")
COMMAND = re.compile(r"`(?:embedtune|pip) [^`]*`")

# (path relative to src/embedtune, a flag it may name): why it stays.
ALLOWED: dict[tuple[str, str], str] = {}


def _text(node: ast.AST) -> str:
    """A string literal or f-string as text, ``{}`` for each replacement field."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_text(v) if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return ""


def _is_error(call: ast.Call) -> bool:
    func = call.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    return name.endswith(("Error", "Exception", "Busy"))


def _messages(tree: ast.AST):
    """(line, text) of the strings in each raise and in each error built (``return EmbedtuneError(...)``)."""
    roots = [n.exc for n in ast.walk(tree) if isinstance(n, ast.Raise) and n.exc is not None]
    roots += [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _is_error(n)]
    seen: set[int] = set()
    for root in roots:
        for node in ast.walk(root):
            if isinstance(node, ast.Constant | ast.JoinedStr) and id(node) not in seen:
                seen.add(id(node))
                # the parts of an f-string are walked too: take the whole string only
                seen.update(id(v) for v in getattr(node, "values", []))
                text = _text(node)
                if text:
                    yield node.lineno, text


def _flags_in_errors() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith("cli/"):
            continue
        for line, text in _messages(ast.parse(path.read_text(encoding="utf-8"))):
            # implicit concatenation across lines is one string node, so a flag split over lines is seen
            found += [(rel, line, m.group()) for m in FLAG.finditer(COMMAND.sub("", text))]
    return found


def test_library_errors_name_parameters_not_flags():
    found = _flags_in_errors()
    bad = [f"{rel}:{line}: {flag}" for rel, line, flag in found if (rel, flag) not in ALLOWED]
    assert not bad, "library errors name CLI flags; name the parameter or config field instead:\n" + "\n".join(bad)


def test_allow_list_is_current():
    """An allowance whose message was reworded goes, so the list stays short and true."""
    found = {(rel, flag) for rel, _, flag in _flags_in_errors()}
    assert set(ALLOWED) <= found, f"stale allowances: {sorted(set(ALLOWED) - found)}"


def test_checker_sees_flags():
    """The walk finds plain, f-string, multi-line and built-not-raised messages, and skips commands in backticks."""
    source = '''
def f(x):
    if x:
        raise ValueError(f"--dim {x} is too large")
    if x > 1:
        raise EmbedtuneError(
            f"a {x} "
            "or pass --model"
        )
    if x > 2:
        raise EmbedtuneError(f"--{x} must be at least 1")
    if x > 3:
        raise EmbedtuneError("run `embedtune ingest PATH --workspace W` first")
    return ApiError(404, "start with --feedback-log FILE")
'''
    texts = [t for _, t in _messages(ast.parse(source))]
    flagged = [t for t in texts if FLAG.search(COMMAND.sub("", t))]
    assert len(flagged) == 4 and not any("embedtune ingest" in t for t in flagged)
