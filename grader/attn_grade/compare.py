"""Compare a student's output array with the expected one, and say where they differ.

Exact shape first (np.allclose would broadcast a (0, 4) array against (1, 4)),
then NaN and inf positions (np.nanmax ignores NaN), then values with a relative
tolerance and an absolute one scaled by the size of the expected values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Comparison:
    ok: bool
    message: str = ""
    max_abs_error: float | None = None
    max_rel_error: float | None = None


def compare(
    name: str, got: np.ndarray, expected: np.ndarray, kind: str, rtol: float, atol: float
) -> Comparison:
    """Is `got` the `expected` output `name`? kind is "float" or "bool"."""
    if got.shape != expected.shape:
        return Comparison(False, _shape_message(name, got.shape, expected.shape))
    if kind == "bool":
        return _compare_bool(name, got, expected)
    if got.dtype.kind not in "fiub":
        return Comparison(False, f"{name}: expected numbers, got dtype {got.dtype}")
    return _compare_float(name, got.astype(np.float64), expected.astype(np.float64), rtol, atol)


def matches(got: np.ndarray, expected: np.ndarray, kind: str, rtol: float, atol: float) -> bool:
    return compare("", got, expected, kind, rtol, atol).ok


def _shape_message(name: str, got: tuple, expected: tuple) -> str:
    message = f"{name}: wrong shape: expected {expected}, got {got}."
    if len(got) == len(expected) >= 2 and got[:-2] + got[-1:] + got[-2:-1] == expected:
        message += " The last two axes are swapped: did you transpose?"
    elif sorted(got) == sorted(expected):
        message += " The same sizes in another order: check the order of your axes."
    elif len(got) < len(expected):
        message += " Axes are missing: did you sum or index away a batch axis?"
    return message


def _compare_bool(name: str, got: np.ndarray, expected: np.ndarray) -> Comparison:
    if got.dtype != np.bool_:
        values = np.unique(got)[:4]
        return Comparison(
            False,
            f"{name}: expected a boolean array (True/False), got dtype {got.dtype} with values "
            f"like {values.tolist()}. Return a bool mask, not an additive 0/-inf mask.",
        )
    wrong = got != expected
    if not wrong.any():
        return Comparison(True)
    first = tuple(int(i) for i in np.argwhere(wrong)[0])
    return Comparison(
        False,
        f"{name}: {int(wrong.sum())} of {wrong.size} entries differ; first at {list(first)}: "
        f"expected {bool(expected[first])}, got {bool(got[first])}.",
    )


def _compare_float(
    name: str, got: np.ndarray, expected: np.ndarray, rtol: float, atol: float
) -> Comparison:
    for label, test in (("NaN", np.isnan), ("+inf", np.isposinf), ("-inf", np.isneginf)):
        wrong = test(got) != test(expected)
        if wrong.any():
            first = tuple(int(i) for i in np.argwhere(wrong)[0])
            has = "has" if test(got)[first] else "has no"
            return Comparison(
                False,
                f"{name}: {has} {label} at {list(first)} (expected {_fmt(expected[first])}, got "
                f"{_fmt(got[first])}); {int(wrong.sum())} entries disagree on {label}.",
            )
    finite = np.isfinite(expected)
    scale = max(1.0, float(np.max(np.abs(expected[finite]), initial=0.0)))
    error = np.where(finite, np.abs(got - expected), 0.0)
    allowed = atol * scale + rtol * np.abs(np.where(finite, expected, 0.0))
    wrong = error > allowed
    if not wrong.any():
        return Comparison(True, max_abs_error=float(error.max(initial=0.0)))
    first = tuple(int(i) for i in np.argwhere(wrong)[0])
    # relative errors only where the expected value is not (about) 0: there they mean nothing
    meaningful = finite & (np.abs(expected) > atol * scale)
    relative = np.where(meaningful, error / np.where(meaningful, np.abs(expected), 1.0), 0.0)
    message = (
        f"{name}: {int(wrong.sum())} of {wrong.size} values differ; first at {list(first)}: "
        f"expected {_fmt(expected[first])}, got {_fmt(got[first])}. "
        f"Max abs error {error.max():.3g}"
        + (f", max rel error {relative.max():.3g}." if (wrong & meaningful).any() else ".")
        + _zero_note(got, expected, wrong & ~meaningful & finite)
        + _excerpt(got, expected, first)
    )
    return Comparison(False, message, float(error.max()), float(relative.max()))


def _zero_note(got: np.ndarray, expected: np.ndarray, wrong_at_zero: np.ndarray) -> str:
    """Where 0 was expected a relative error says nothing: say what came back instead."""
    if not wrong_at_zero.any():
        return ""
    first = tuple(int(i) for i in np.argwhere(wrong_at_zero)[0])
    values = np.abs(got[wrong_at_zero])
    return (
        f" {int(wrong_at_zero.sum())} of the wrong values should be 0 (e.g. at {list(first)}, "
        f"got {_fmt(got[first])}; largest {_fmt(values.max())})."
    )


def _excerpt(got: np.ndarray, expected: np.ndarray, first: tuple[int, ...]) -> str:
    if got.ndim == 0:
        return ""
    row = first[:-1]
    start = max(0, min(first[-1] - 2, got.shape[-1] - 6))
    stop = min(start + 6, got.shape[-1])
    cut = slice(start, stop)
    where = f"[{', '.join(map(str, row))}{', ' if row else ''}{start}:{stop}]"
    return (
        f"\n  expected{where} = {_fmt_row(expected[row][cut])}"
        f"\n  got     {where} = {_fmt_row(got[row][cut])}"
    )


def _fmt(value: float) -> str:
    return f"{float(value):.4g}"


def _fmt_row(values: np.ndarray) -> str:
    return "[" + ", ".join(_fmt(v) for v in values) + "]"
