"""A small, safe expression language over row columns, used by `select`.

Python syntax restricted to comparisons, boolean logic, arithmetic, `in`, literals, column names and a few
functions. Parsed and checked once (bad expressions fail before any video is opened); a missing or null
column makes its comparison false, and the failing top-level clause is reported as the drop reason.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": abs,
    "min": min,
    "max": max,
    "len": len,
    "round": round,
    "lower": lambda s: str(s).lower(),
    "isnull": lambda v: v is None or (isinstance(v, float) and math.isnan(v)),
    "notnull": lambda v: not (v is None or (isinstance(v, float) and math.isnan(v))),
}
_BIN = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_CMP = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
        ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b,
        ast.NotIn: lambda a, b: a not in b}
_ALLOWED = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
            ast.BinOp, ast.Compare, ast.Name, ast.Load, ast.Constant, ast.Call, ast.List, ast.Tuple,
            *_BIN, *_CMP)


class _Null(Exception):
    """A null operand: the enclosing comparison is false."""


class Expr:
    """A parsed expression; call `clauses_failed(row)` to evaluate it."""

    def __init__(self, source: str) -> None:
        self.source = source.strip()
        try:
            self.tree = ast.parse(self.source, mode="eval")
        except SyntaxError as e:
            raise ValueError(f"cannot parse {source!r}: {e.msg}") from e
        for node in ast.walk(self.tree):
            if not isinstance(node, _ALLOWED):
                raise ValueError(f"{type(node).__name__} is not allowed in {source!r}")
            if isinstance(node, ast.Call) and not (
                isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
            ):
                raise ValueError(f"unknown function in {source!r}; allowed: {', '.join(FUNCTIONS)}")
        body = self.tree.body
        parts = body.values if isinstance(body, ast.BoolOp) and isinstance(body.op, ast.And) else [body]
        self.clauses = [(ast.get_source_segment(self.source, p) or self.source, p) for p in parts]

    def columns(self) -> set[str]:
        """Column names the expression reads."""
        names = {n.id for n in ast.walk(self.tree) if isinstance(n, ast.Name)}
        return names - set(FUNCTIONS)

    def failures(self, row: dict[str, Any]) -> list[str]:
        """The texts of every top-level clause that is false for the row."""
        return [text for text, node in self.clauses if not _truth(node, row)]

    def first_failure(self, row: dict[str, Any]) -> str | None:
        """The text of the first top-level clause that is false for the row, or None if all hold."""
        for text, node in self.clauses:
            if not _truth(node, row):
                return text
        return None


def _truth(node: ast.AST, row: dict[str, Any]) -> bool:
    try:
        return bool(_eval(node, row))
    except _Null:
        return False


def _eval(node: ast.AST, row: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        value = row.get(node.id)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            raise _Null(node.id)
        return value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_eval(e, row) for e in node.elts]
    if isinstance(node, ast.BoolOp):
        values = (_truth(v, row) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.Not):
            return not _truth(node.operand, row)
        value = _eval(node.operand, row)
        return -value if isinstance(node.op, ast.USub) else +value
    if isinstance(node, ast.BinOp):
        return _BIN[type(node.op)](_eval(node.left, row), _eval(node.right, row))
    if isinstance(node, ast.Compare):
        left = _eval(node.left, row)
        for op, comp in zip(node.ops, node.comparators):
            right = _eval(comp, row)
            if not _CMP[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Call):
        func = FUNCTIONS[node.func.id]  # type: ignore[attr-defined]
        if node.func.id in ("isnull", "notnull"):  # type: ignore[attr-defined]
            return func(_lenient(node.args[0], row))
        return func(*(_eval(a, row) for a in node.args))
    raise ValueError(f"unsupported expression node {type(node).__name__}")


def _lenient(node: ast.AST, row: dict[str, Any]) -> Any:
    try:
        return _eval(node, row)
    except _Null:
        return None
