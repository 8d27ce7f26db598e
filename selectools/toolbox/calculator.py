"""A calculator the model can trust: arithmetic by walking the AST, never `eval`.

Numbers, `+ - * / // % **`, parentheses, the constants `pi`, `e`, `tau` and a
fixed set of math functions. Everything else (names, attributes, strings,
subscripts, calls to anything not listed, `__import__`) is refused, and so are
results that would grow without bound: exponents and integers are capped so
`9**9**9` or `factorial(10**6)` cannot stall a worker.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

from ..tools.tool import tool
from ..tools.toolkit import RefusedError, ToolkitError

__all__ = ["calculate", "evaluate"]

MAX_EXPRESSION_CHARS = 500
MAX_NODES = 200
MAX_INT_BITS = 4096  # about 1233 decimal digits
MAX_FACTORIAL = 500

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}


def _factorial(n: Any) -> int:
    if not isinstance(n, int) or n < 0 or n > MAX_FACTORIAL:
        raise RefusedError(f"factorial takes a whole number from 0 to {MAX_FACTORIAL}.")
    return math.factorial(n)


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "sqrt": math.sqrt,
    "exp": math.exp,
    "log": math.log,
    "log10": math.log10,
    "log2": math.log2,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "atan2": math.atan2,
    "hypot": math.hypot,
    "degrees": math.degrees,
    "radians": math.radians,
    "floor": math.floor,
    "ceil": math.ceil,
    "factorial": _factorial,
    "gcd": math.gcd,
}


def evaluate(expression: str) -> int | float:
    """Evaluate an arithmetic expression; ToolkitError says what is wrong or refused."""
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise RefusedError(
            f"The expression is {len(expression)} characters; the limit is "
            f"{MAX_EXPRESSION_CHARS}. Split the calculation into steps."
        )
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ToolkitError(
            f"'{expression}' is not an arithmetic expression ({exc.msg}). Use numbers, "
            f"+ - * / // % **, parentheses and functions like sqrt(2)."
        ) from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise RefusedError(f"The expression is too complex (over {MAX_NODES} parts). Split it.")
    try:
        result: int | float = _check_size(_eval(tree.body))
    except ZeroDivisionError:
        raise ToolkitError("Division by zero.") from None
    except OverflowError:
        raise RefusedError("The result is too large to represent.") from None
    except (ValueError, TypeError) as exc:
        raise ToolkitError(f"Cannot calculate that: {exc}.") from None
    return result


def _eval(node: ast.expr) -> Any:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise RefusedError(f"Only numbers are allowed, not {node.value!r}.")
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        return _check_size(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand))
    if isinstance(node, ast.Name):
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        raise RefusedError(
            f"Unknown name '{node.id}'. Known constants: {', '.join(_CONSTANTS)}; "
            f"functions: {', '.join(_FUNCTIONS)}."
        )
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in _FUNCTIONS or node.keywords:
            shown = name or ast.unparse(node.func)
            raise RefusedError(
                f"'{shown}' is not an allowed function. Allowed: {', '.join(_FUNCTIONS)} "
                f"(positional arguments only)."
            )
        arguments = [_eval(arg) for arg in node.args]
        return _check_size(_FUNCTIONS[name](*arguments))
    raise RefusedError(
        f"'{ast.unparse(node)}' is not allowed: only numbers, arithmetic operators, "
        f"parentheses, {', '.join(_CONSTANTS)} and the listed functions."
    )


def _check_power(base: Any, exponent: Any) -> None:
    if isinstance(exponent, int) and abs(exponent) > 10_000:
        raise RefusedError(f"The exponent {exponent} is too large (limit 10000).")
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        bits = math.log2(abs(base)) * exponent
        if bits > MAX_INT_BITS:
            raise RefusedError(
                f"{base} ** {exponent} has about {int(bits * 0.30103) + 1} digits; the limit is "
                f"{int(MAX_INT_BITS * 0.30103)}. Use a float (e.g. {base}.0 ** {exponent})."
            )


def _check_size(value: Any) -> Any:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise RefusedError(
            f"The result has more than {int(MAX_INT_BITS * 0.30103)} digits. Use floats."
        )
    return value


@tool
def calculate(expression: str) -> int | float:
    """Evaluate an arithmetic expression exactly, e.g. "(17.5 * 3) / 4" or "sqrt(2) * pi".

    Args:
        expression: numbers, + - * / // % **, parentheses, pi, e, tau and the
            functions abs, round, min, max, sqrt, exp, log, log10, log2, sin,
            cos, tan, asin, acos, atan, atan2, hypot, degrees, radians, floor,
            ceil, factorial, gcd.
    """
    return evaluate(expression)
