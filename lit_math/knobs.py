"""Knobs declared once: a dataclass field with a one-line docstring under it is a typed option with its help.

LitGPT writes its data modules' options this way; Python keeps no attribute docstrings at run time, so they
are read back from the source with `ast`. `--help` and the DataModules' docstrings are generated from them.
"""

from __future__ import annotations

import ast
import functools
import inspect
import itertools
import textwrap


@functools.cache
def field_docs(cls: type) -> dict[str, str]:
    """The docstring written under each annotated attribute of `cls` itself (not its bases), on one line."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError):  # no source (built in a session): no help, still typed options
        return {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    docs = {}
    for node, after in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[node.target.id] = " ".join(after.value.value.split())
    return docs


def inherited_docs(cls: type) -> dict[str, str]:
    """`field_docs` of `cls` and its bases, the nearest class winning."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        docs.update(field_docs(klass))
    return docs


def args_section(docs: dict[str, str], names: list[str]) -> str:
    """A Google-style `Args:` section (what jsonargparse turns into `--help` text) for `names`."""
    lines = [f"    {name}: {docs[name]}" for name in names if name in docs]
    return "Args:\n" + "\n".join(lines) if lines else ""
