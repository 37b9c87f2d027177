"""CloudWatch metric math, the part alarms use: ``+ - * /``, parentheses, numbers, query ids,
unary minus, and the functions ``FILL(series, value)``, ``ABS(x)`` and ``IF(condition,
a, b)`` with the comparisons ``> < >= <= == !=`` (1 or 0).

A series is ``{period start: value}``. Arithmetic between two series keeps the periods where
both have a value (CloudWatch drops the others); a division by zero drops that period.
``FILL`` gives every period of the evaluated window a value. Anything else is a
``MathError`` naming what it did not understand.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence

__all__ = ["MathError", "Series", "evaluate"]

Series = dict[float, float]
Value = Series | float

_TOKEN = re.compile(
    r"\s*(?:(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(>=|<=|==|!=|[-+*/(),<>]))"
)

_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


class MathError(ValueError):
    """An expression the simulator cannot evaluate."""


def evaluate(expression: str, series: Mapping[str, Series], periods: Sequence[float]) -> Series:
    """The series ``expression`` gives over ``periods`` (the window's period starts)."""
    parser = _Parser(_tokens(expression), series, periods)
    value = parser.comparison()
    if parser.pos != len(parser.tokens):
        raise MathError(f"unexpected {parser.tokens[parser.pos]!r} in {expression!r}")
    if isinstance(value, dict):
        return value
    return {p: float(value) for p in periods}


def _tokens(expression: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    text = expression.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise MathError(f"cannot read {text[pos:]!r} in {expression!r}")
        tokens.append(next(g for g in match.groups() if g is not None))
        pos = match.end()
    return tokens


def _as_number(compare: Callable[[float, float], bool]) -> Callable[[float, float], float]:
    return lambda x, y: 1.0 if compare(x, y) else 0.0


def _combine(a: Value, b: Value, fn: Callable[[float, float], float]) -> Value:
    def safe(x: float, y: float) -> float | None:
        try:
            result = fn(x, y)
        except ZeroDivisionError:
            return None
        return None if math.isnan(result) or math.isinf(result) else result

    if isinstance(a, dict) and isinstance(b, dict):
        pairs = {p: safe(a[p], b[p]) for p in a if p in b}
    elif isinstance(a, dict):
        pairs = {p: safe(v, float(b)) for p, v in a.items()}  # type: ignore[arg-type]
    elif isinstance(b, dict):
        pairs = {p: safe(float(a), v) for p, v in b.items()}
    else:
        single = safe(float(a), float(b))
        if single is None:
            raise MathError("division by zero in a constant expression")
        return single
    return {p: v for p, v in pairs.items() if v is not None}


class _Parser:
    def __init__(
        self, tokens: list[str], series: Mapping[str, Series], periods: Sequence[float]
    ) -> None:
        self.tokens = tokens
        self.pos = 0
        self.series = series
        self.periods = periods

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> str:
        token = self._peek()
        if token is None or (expected is not None and token != expected):
            raise MathError(f"expected {expected or 'more'} at the end of the expression")
        self.pos += 1
        return token

    def comparison(self) -> Value:
        left = self.sum()
        while self._peek() in _COMPARE:
            compare = _as_number(_COMPARE[self._take()])
            left = _combine(left, self.sum(), compare)
        return left

    def sum(self) -> Value:
        left = self.product()
        while self._peek() in ("+", "-"):
            op = _ARITHMETIC[self._take()]
            left = _combine(left, self.product(), op)
        return left

    def product(self) -> Value:
        left = self.unary()
        while self._peek() in ("*", "/"):
            op = _ARITHMETIC[self._take()]
            left = _combine(left, self.unary(), op)
        return left

    def unary(self) -> Value:
        if self._peek() == "-":
            self._take()
            return _combine(-1.0, self.unary(), operator.mul)
        return self.atom()

    def atom(self) -> Value:
        token = self._take()
        if token == "(":
            value = self.comparison()
            self._take(")")
            return value
        if token[0].isdigit():
            return float(token)
        if self._peek() == "(":
            return self._call(token.upper())
        if token not in self.series:
            raise MathError(f"unknown metric id {token!r}")
        return dict(self.series[token])

    def _arguments(self) -> list[Value]:
        self._take("(")
        args = [self.comparison()]
        while self._peek() == ",":
            self._take()
            args.append(self.comparison())
        self._take(")")
        return args

    def _call(self, name: str) -> Value:
        args = self._arguments()
        if name == "FILL" and len(args) == 2 and not isinstance(args[1], dict):
            given = args[0] if isinstance(args[0], dict) else {}
            return {p: given.get(p, float(args[1])) for p in self.periods}
        if name == "ABS" and len(args) == 1:
            return _combine(args[0], 0.0, lambda x, _: abs(x))
        if name == "IF" and len(args) == 3:
            cond, then, other = (self._series(a) for a in args)
            return {
                p: (then if cond[p] else other)[p]
                for p in cond
                if p in (then if cond[p] else other)
            }
        raise MathError(f"the simulator does not evaluate {name}() with {len(args)} arguments")

    def _series(self, value: Value) -> Series:
        return value if isinstance(value, dict) else {p: float(value) for p in self.periods}
