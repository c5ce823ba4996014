"""Arithmetic the pool's members compute with: an exact evaluator, the expression in a text, a
word-problem parser, and the two wrong ways of computing that faulty members use.

The exact evaluator walks Python's syntax tree and accepts numbers, ``+ - * /``, unary signs and
parentheses only, with bounded length and magnitude, so no input runs code or exhausts memory.
"""

from __future__ import annotations

import ast
import re
from fractions import Fraction

__all__ = [
    "MAX_EXPRESSION_CHARS",
    "column_arithmetic",
    "evaluate",
    "evaluate_left_to_right",
    "find_expression",
    "format_number",
    "parse_word_problem",
]

MAX_EXPRESSION_CHARS = 200
"""Longest expression evaluated."""
MAX_MAGNITUDE = 10**15
"""Largest absolute value of a number or an intermediate result."""

_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
        ast.Div: lambda a, b: a / b}
_SIGNS = {ast.UAdd: lambda a: a, ast.USub: lambda a: -a}
_SYMBOLS = str.maketrans({"×": "*", "x": "*", "÷": "/", "−": "-"})
_EXPRESSION = re.compile(r"[-(]*\s*\d[\d\s.,+\-*/()]*")
_OPERATOR_BETWEEN = re.compile(r"\d[\s)]*[-+*/][\s(]*-?\d")


def _bounded(value: Fraction) -> Fraction:
    if abs(value) > MAX_MAGNITUDE:
        raise ValueError("number too large")
    return value


def _walk(node: ast.AST) -> Fraction:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return _bounded(Fraction(str(node.value)))
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        left, right = _walk(node.left), _walk(node.right)
        if isinstance(node.op, ast.Div) and right == 0:
            raise ValueError("division by zero")
        return _bounded(_OPS[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _SIGNS:
        return _SIGNS[type(node.op)](_walk(node.operand))
    raise ValueError("only numbers, + - * / and parentheses are allowed")


def _normalise(expression: str) -> str:
    text = expression.translate(_SYMBOLS).replace(",", "").strip()
    if not text or len(text) > MAX_EXPRESSION_CHARS:
        raise ValueError(f"an expression of 1 to {MAX_EXPRESSION_CHARS} characters is needed")
    return text


def evaluate(expression: str) -> Fraction:
    """The exact value of an arithmetic expression.

    >>> evaluate("23 + 4 * 6"), evaluate("(45 - 12) + 7"), evaluate("7 / 2")
    (Fraction(47, 1), Fraction(40, 1), Fraction(7, 2))

    Raises:
        ValueError: anything but numbers, ``+ - * /``, signs and parentheses; too long or too large.
    """
    try:
        tree = ast.parse(_normalise(expression), mode="eval")
    except SyntaxError as err:
        raise ValueError(f"not an arithmetic expression: {expression[:60]!r}") from err
    return _walk(tree.body)


def format_number(value: Fraction) -> str:
    """An exact value as text: an integer when whole, else a decimal.

    >>> format_number(Fraction(47)), format_number(Fraction(7, 2))
    ('47', '3.5')
    """
    return str(value.numerator) if value.denominator == 1 else repr(float(value))


def find_expression(text: str) -> str | None:
    """The longest arithmetic expression with at least one operator in `text`, if any.

    >>> find_expression("What is 47 + 38?"), find_expression("Expression: (45 - 12) + 7")
    ('47 + 38', '(45 - 12) + 7')
    >>> find_expression("Sam has 12 apples.") is None
    True
    """
    found = [m.group(0).strip(" .,") for m in _EXPRESSION.finditer(text.translate(_SYMBOLS))]
    found = [_balanced(f) for f in found if _OPERATOR_BETWEEN.search(f)]
    return max(found, key=len) if found else None


def _balanced(text: str) -> str:
    """`text` less the unmatched parentheses at its ends (a match may run into prose)."""
    while text.count("(") > text.count(")") and text.startswith("("):
        text = text[1:].lstrip()
    while text.count(")") > text.count("(") and text.endswith(")"):
        text = text[:-1].rstrip()
    return text


def evaluate_left_to_right(expression: str) -> Fraction:
    """The value of `expression` read strictly from left to right, ignoring operator precedence
    (parentheses are still honoured): what a naive calculator computes.

    >>> evaluate_left_to_right("23 + 4 * 6"), evaluate_left_to_right("(45 - 12) + 7")
    (Fraction(162, 1), Fraction(40, 1))
    """
    text = _normalise(expression)
    while "(" in text:
        inner = re.search(r"\(([^()]*)\)", text)
        if inner is None:
            raise ValueError(f"unbalanced parentheses in {expression[:60]!r}")
        text = text[:inner.start()] + format_number(evaluate_left_to_right(inner.group(1))) + text[inner.end():]
    tokens = re.findall(r"\d+(?:\.\d+)?|[-+*/]", text)
    if not tokens:
        raise ValueError(f"not an arithmetic expression: {expression[:60]!r}")
    value = evaluate(tokens[0]) if tokens[0] not in "+-*/" else Fraction(0)
    for op, operand in zip(tokens[1::2], tokens[2::2], strict=False):
        value = evaluate(f"({format_number(value)}) {op} {operand}")
    return value


def _digits(n: int) -> list[int]:
    return [int(d) for d in reversed(str(n))]


def _no_carry_add(a: int, b: int) -> int:
    width = max(len(str(a)), len(str(b)))
    return sum(((a // 10**i) % 10 + (b // 10**i) % 10) % 10 * 10**i for i in range(width))


def column_arithmetic(a: int, op: str, b: int) -> int:
    """`a op b` worked column by column without carrying or borrowing: the answer of someone who
    never learned carries (right whenever no column overflows).

    >>> column_arithmetic(47, "+", 38), column_arithmetic(52, "-", 34), column_arithmetic(23, "+", 45)
    (75, 22, 68)
    >>> column_arithmetic(47, "*", 3), column_arithmetic(12, "*", 3)
    (21, 36)
    """
    if op not in ("+", "-", "*") or a < 0 or b < 0:
        raise ValueError(f"column arithmetic takes two non-negative numbers and + - *, got {a} {op} {b}")
    if op == "+":
        return _no_carry_add(a, b)
    if op == "-":
        width = max(len(str(a)), len(str(b)))
        return sum(abs((a // 10**i) % 10 - (b // 10**i) % 10) * 10**i for i in range(width))
    total = 0
    for j, d in enumerate(_digits(b)):
        partial = sum((x * d) % 10 * 10**i for i, x in enumerate(_digits(a)))
        total = _no_carry_add(total, partial * 10**j)
    return total


_ADD_WORDS = frozenset({"buys", "bought", "found", "finds", "more", "gets", "got", "receives", "received", "earns",
                        "adds"})
_SUB_WORDS = frozenset({"gave", "loses", "lost", "ate", "eats", "spent", "spends", "sold", "sells", "uses", "used",
                        "away"})
_EACH_WORDS = frozenset({"each", "per", "every"})
_CLAUSES = re.compile(r"(?<=[.!?])\s+|,\s*(?:and\s+)?then\s+"
                      r"|\s+and\s+(?=(?:\w+\s+)?(?:gave|found|lost|loses|buys|ate|sold))")
_INT = re.compile(r"\d+")


def _clause_term(clause: str) -> tuple[str, str] | None:
    """(operator, term) a story clause adds to the running quantity, None when it adds nothing."""
    numbers = _INT.findall(clause)
    if not numbers:
        return None
    words = set(re.findall(r"[a-z]+", clause.lower()))
    term = f"{numbers[0]} * {numbers[1]}" if len(numbers) >= 2 and words & _EACH_WORDS else numbers[0]
    if words & _SUB_WORDS and "more" not in words:
        return "-", term
    return ("+", term) if words & _ADD_WORDS or len(numbers) > 1 else None


def parse_word_problem(text: str) -> str | None:
    """An expression for a story problem (a starting quantity, then what each clause adds or
    takes away), or the expression a plain question states; None when it finds neither.

    >>> parse_word_problem("Sam has 23 apples. Sam buys 4 bags with 6 apples in each bag. How many apples does Sam have now?")
    '23 + 4 * 6'
    >>> parse_word_problem("Mia had 45 coins and gave 12 of them to a friend. Later Mia found 7 more coins. How many?")
    '45 - 12 + 7'
    >>> parse_word_problem("What is 81 - 27?")
    '81 - 27'
    """
    question = text.strip()
    numbers = _INT.findall(question)
    stated = find_expression(question)
    if stated is not None and len(_INT.findall(stated)) == len(numbers):
        return stated
    clauses = [c for c in _CLAUSES.split(question) if c.strip()]
    start = next((i for i, c in enumerate(clauses) if _INT.search(c)), None)
    if start is None:
        return None
    parts = [_INT.findall(clauses[start])[0]]
    for clause in clauses[start + 1:]:
        term = _clause_term(clause)
        if term is not None:
            parts += list(term)
    return " ".join(parts) if len(parts) > 1 else None
