"""The documented Python API: every public name imports, is documented, and ``import embedtune`` stays cheap."""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import embedtune

INIT = Path(embedtune.__file__)


@pytest.mark.parametrize("name", embedtune.__all__)
def test_every_public_name_imports_and_has_a_docstring(name: str) -> None:
    value = getattr(embedtune, name)
    if name == "__version__":
        assert isinstance(value, str)
        return
    # A subpackage of the same name would shadow a lazy name once imported (embedtune.teach, embedtune.gate).
    assert not isinstance(value, types.ModuleType), f"embedtune.{name} is a module"
    doc = inspect.getdoc(value) or ""
    generated = isinstance(value, type) and doc.startswith(f"{value.__name__}(")  # a dataclass's own signature
    assert doc.strip() and not generated, f"embedtune.{name} has no docstring"


def test_public_names_are_listed_in_docs_api_md() -> None:
    page = (INIT.parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    missing = [n for n in embedtune.__all__ if n != "__version__" and not re.search(rf"`{n}[`(]", page)]
    assert not missing, f"docs/api.md does not describe {missing}"


def test_unknown_names_are_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        embedtune.no_such_thing  # noqa: B018


def test_import_is_lazy_no_torch() -> None:
    code = "import sys, embedtune; print(sorted(m for m in ('torch', 'transformers', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_type_checking_imports_mirror_the_lazy_table() -> None:
    """IDEs and type checkers read the TYPE_CHECKING block; it must name what ``__getattr__`` returns."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    block = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    seen = {
        a.asname or a.name: (node.module, a.name)
        for node in block.body if isinstance(node, ast.ImportFrom) for a in node.names
    }
    assert seen == embedtune._LAZY
