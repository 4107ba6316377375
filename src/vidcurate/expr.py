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


MAX_LENGTH = 200_000
"""Longest expression text accepted (characters)."""
MAX_DEPTH = 100
"""Deepest nesting accepted (a chain of `not`, unary minus or parentheses)."""
MAX_EXPONENT = 64
"""Largest exponent `**` accepts: `9 ** 9 ** 9` would otherwise compute for minutes."""
MAX_SIZE = 10_000
"""Largest string or list an expression may build (`codec * 10 ** 10`), and the most bits an integer may have."""


class _Bad(Exception):
    """A value this row cannot give (division by zero, incompatible types, a value too large): the enclosing
    clause is false for the row, and its drop reason says why."""


class Expr:
    """A parsed expression; `first_failure(row)` evaluates it."""

    def __init__(self, source: str) -> None:
        self.source = source.strip()
        if len(self.source) > MAX_LENGTH:
            raise ValueError(f"expression is {len(self.source)} characters long; the limit is {MAX_LENGTH}")
        try:
            self.tree = ast.parse(self.source, mode="eval")
        except SyntaxError as e:
            raise ValueError(f"cannot parse {source[:200]!r}: {e.msg}") from e
        except (RecursionError, MemoryError):
            raise ValueError(f"expression is nested too deeply (limit {MAX_DEPTH})") from None
        if _depth(self.tree) > MAX_DEPTH:
            raise ValueError(f"expression is nested too deeply (limit {MAX_DEPTH})")
        for node in ast.walk(self.tree):
            if not isinstance(node, _ALLOWED):
                raise ValueError(f"{type(node).__name__} is not allowed in {source!r}")
            if isinstance(node, ast.Call) and not (
                isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
            ):
                raise ValueError(f"unknown function in {source!r}; allowed: {', '.join(FUNCTIONS)}")
        body = self.tree.body
        parts = body.values if isinstance(body, ast.BoolOp) and isinstance(body.op, ast.And) else [body]
        starts = [0]
        for line in self.source.splitlines(keepends=True):
            starts.append(starts[-1] + len(line.encode()))
        raw = self.source.encode()
        self.clauses = [(_segment(raw, starts, p) or self.source, p) for p in parts]

    def columns(self) -> set[str]:
        """Column names the expression reads."""
        names = {n.id for n in ast.walk(self.tree) if isinstance(n, ast.Name)}
        return names - set(FUNCTIONS)

    def failures(self, row: dict[str, Any]) -> list[str]:
        """The texts of every top-level clause that is false for the row."""
        return [text for text, node in self.clauses if _verdict(node, row) is not True]

    def first_failure(self, row: dict[str, Any]) -> str | None:
        """The text of the first top-level clause that is false for the row (with why, when it could not be
        evaluated), or None if all hold."""
        for text, node in self.clauses:
            verdict = _verdict(node, row)
            if verdict is not True:
                return text if verdict is False else f"{text} ({verdict})"
        return None

    def type_error(self, rows: list[dict[str, Any]]) -> str | None:
        """The reason, when the expression cannot be evaluated on any of these rows for the same kind of
        reason (e.g. a string compared with a number): a configuration error, not a per-row drop."""
        reasons = set()
        for row in rows:
            for _, node in self.clauses:
                verdict = _verdict(node, row)
                if verdict is True or verdict is False:
                    continue
                reasons.add(verdict)
                break
            else:
                return None
            if len(reasons) > 1:
                return None
        return next(iter(reasons)) if rows and len(reasons) == 1 else None


def _segment(raw: bytes, starts: list[int], node: ast.AST) -> str:
    """The source text of a node (ast.get_source_segment re-splits the text per call: quadratic)."""
    begin = starts[node.lineno - 1] + node.col_offset  # type: ignore[attr-defined]
    end = starts[node.end_lineno - 1] + node.end_col_offset  # type: ignore[attr-defined]
    return raw[begin:end].decode()


def _depth(tree: ast.AST) -> int:
    deepest, todo = 0, [(tree, 1)]
    while todo:
        node, depth = todo.pop()
        deepest = max(deepest, depth)
        todo.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _verdict(node: ast.AST, row: dict[str, Any]) -> bool | str:
    """True or False for a clause on a row, or why it cannot be evaluated there (the clause then fails)."""
    try:
        return bool(_eval(node, row))
    except _Null:
        return False
    except _Bad as e:
        return str(e)
    except (ArithmeticError, TypeError, ValueError) as e:
        return f"{type(e).__name__}: {e}"


def _truth(node: ast.AST, row: dict[str, Any]) -> bool:
    return _verdict(node, row) is True


def _binop(op: ast.operator, left: Any, right: Any) -> Any:
    """An arithmetic operation with bounds, so that no expression can run for minutes or fill the memory."""
    if isinstance(op, ast.Pow) and isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
        raise _Bad(f"exponent {right} is larger than {MAX_EXPONENT}")
    if isinstance(op, ast.Mult):
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, (str, list)) and isinstance(times, int) and len(seq) * times > MAX_SIZE:
                raise _Bad(f"the result would hold more than {MAX_SIZE} items")
    result = _BIN[type(op)](left, right)
    if isinstance(result, int) and result.bit_length() > MAX_SIZE:
        raise _Bad(f"an integer of more than {MAX_SIZE} bits")
    return result


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
        return _binop(node.op, _eval(node.left, row), _eval(node.right, row))
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
