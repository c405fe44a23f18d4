"""Compare a student's output array with the expected one, and say where they differ.

Exact shape first (np.allclose would broadcast a (0, 4) array against (1, 4)),
then NaN and inf positions (np.nanmax ignores NaN), then values with a relative
tolerance and an absolute one scaled by the size of the expected values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attn_grade.translation import gettext_for


@dataclass(frozen=True)
class Comparison:
    ok: bool
    message: str = ""
    max_abs_error: float | None = None
    max_rel_error: float | None = None


def compare(
    name: str,
    got: np.ndarray,
    expected: np.ndarray,
    kind: str,
    rtol: float,
    atol: float,
    lang: str = "en",
) -> Comparison:
    """Is `got` the `expected` output `name`? kind is "float" or "bool"; the message is
    in `lang`."""
    _ = gettext_for(lang)
    if got.shape != expected.shape:
        return Comparison(False, _shape_message(name, got.shape, expected.shape, _))
    if kind == "bool":
        return _compare_bool(name, got, expected, _)
    if got.dtype.kind not in "fiub":
        return Comparison(
            False, _("{name}: expected numbers, got dtype {dtype}").format(name=name, dtype=got.dtype)
        )
    return _compare_float(
        name, got.astype(np.float64), expected.astype(np.float64), rtol, atol, _
    )


def matches(got: np.ndarray, expected: np.ndarray, kind: str, rtol: float, atol: float) -> bool:
    return compare("", got, expected, kind, rtol, atol).ok


def _shape_message(name: str, got: tuple, expected: tuple, _=str) -> str:
    message = _("{name}: wrong shape: expected {expected}, got {got}.").format(
        name=name, expected=expected, got=got
    )
    if len(got) == len(expected) >= 2 and got[:-2] + got[-1:] + got[-2:-1] == expected:
        message += " " + _("The last two axes are swapped: did you transpose?")
    elif sorted(got) == sorted(expected):
        message += " " + _("The same sizes in another order: check the order of your axes.")
    elif len(got) < len(expected):
        message += " " + _("Axes are missing: did you sum or index away a batch axis?")
    return message


def _compare_bool(name: str, got: np.ndarray, expected: np.ndarray, _=str) -> Comparison:
    if got.dtype != np.bool_:
        values = np.unique(got)[:4]
        return Comparison(
            False,
            _(
                "{name}: expected a boolean array (True/False), got dtype {dtype} with values "
                "like {values}. Return a bool mask, not an additive 0/-inf mask."
            ).format(name=name, dtype=got.dtype, values=values.tolist()),
        )
    wrong = got != expected
    if not wrong.any():
        return Comparison(True)
    first = tuple(int(i) for i in np.argwhere(wrong)[0])
    return Comparison(
        False,
        _(
            "{name}: {wrong} of {size} entries differ; first at {first}: "
            "expected {expected}, got {got}."
        ).format(
            name=name, wrong=int(wrong.sum()), size=wrong.size, first=list(first),
            expected=bool(expected[first]), got=bool(got[first]),
        ),
    )


def _compare_float(
    name: str, got: np.ndarray, expected: np.ndarray, rtol: float, atol: float, _=str
) -> Comparison:
    for label, test in (("NaN", np.isnan), ("+inf", np.isposinf), ("-inf", np.isneginf)):
        wrong = test(got) != test(expected)
        if wrong.any():
            first = tuple(int(i) for i in np.argwhere(wrong)[0])
            if test(got)[first]:
                sentence = _(
                    "{name}: has {label} at {first} (expected {expected}, got {got}); "
                    "{wrong} entries disagree on {label}."
                )
            else:
                sentence = _(
                    "{name}: has no {label} at {first} (expected {expected}, got {got}); "
                    "{wrong} entries disagree on {label}."
                )
            return Comparison(
                False,
                sentence.format(
                    name=name, label=label, first=list(first), expected=_fmt(expected[first]),
                    got=_fmt(got[first]), wrong=int(wrong.sum()),
                ),
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
        _(
            "{name}: {wrong} of {size} values differ; first at {first}: "
            "expected {expected}, got {got}."
        ).format(
            name=name, wrong=int(wrong.sum()), size=wrong.size, first=list(first),
            expected=_fmt(expected[first]), got=_fmt(got[first]),
        )
        + " "
        + (
            _("Max abs error {abs:.3g}, max rel error {rel:.3g}.")
            if (wrong & meaningful).any()
            else _("Max abs error {abs:.3g}.")
        ).format(abs=error.max(), rel=relative.max())
        + _zero_note(got, expected, wrong & ~meaningful & finite, _)
        + _excerpt(got, expected, first, _)
    )
    return Comparison(False, message, float(error.max()), float(relative.max()))


def _zero_note(got: np.ndarray, expected: np.ndarray, wrong_at_zero: np.ndarray, _=str) -> str:
    """Where 0 was expected a relative error says nothing: say what came back instead."""
    if not wrong_at_zero.any():
        return ""
    first = tuple(int(i) for i in np.argwhere(wrong_at_zero)[0])
    values = np.abs(got[wrong_at_zero])
    return " " + _(
        "{count} of the wrong values should be 0 (e.g. at {first}, got {got}; largest {largest})."
    ).format(
        count=int(wrong_at_zero.sum()), first=list(first), got=_fmt(got[first]),
        largest=_fmt(values.max()),
    )


def _excerpt(got: np.ndarray, expected: np.ndarray, first: tuple[int, ...], _=str) -> str:
    if got.ndim == 0:
        return ""
    row = first[:-1]
    start = max(0, min(first[-1] - 2, got.shape[-1] - 6))
    stop = min(start + 6, got.shape[-1])
    cut = slice(start, stop)
    where = f"[{', '.join(map(str, row))}{', ' if row else ''}{start}:{stop}]"
    # the two labels are padded to one width, so that the rows line up
    expected_label, got_label = _("expected"), _("got")
    width = max(len(expected_label), len(got_label))
    return (
        f"\n  {expected_label:<{width}}{where} = {_fmt_row(expected[row][cut])}"
        f"\n  {got_label:<{width}}{where} = {_fmt_row(got[row][cut])}"
    )


def _fmt(value: float) -> str:
    return f"{float(value):.4g}"


def _fmt_row(values: np.ndarray) -> str:
    return "[" + ", ".join(_fmt(v) for v in values) + "]"
