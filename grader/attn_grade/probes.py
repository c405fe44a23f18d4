"""Diagnosis by probing: run the student's function again on inputs derived from a test's.

Diagnosis by matching (diagnose.py) names a mistake when the student's output equals a
known-wrong variant's. It cannot name a mistake that makes the call raise, nor one no
variant reproduces on every input. A probe asks another question: is the student's
function right on a derived input? If it is, while the test itself failed, the
difference between the two inputs names the mistake:

- ``slices``: each 2-D slice of a batched input (``core`` gives each argument's number of
  trailing core axes). Right on every slice, wrong on the batch: ``not-batched``.
- ``flat-batch``: the batch axes flattened into exactly one (one added when there are
  none). Right that way only: the code assumes one number of axes (``transpose(0, 2, 1)``).
- ``move-axis``: the ``array`` argument with its ``axis`` moved to each other position,
  and ``axis`` following it. Right at another position only: the axis is hard-wired.

Every probe may say ``on = ["wrong"]`` (or ``["error"]``): it then speaks only when the
test's call returned a wrong result (or raised); by default, both.
- ``crop``: two arguments' axes cut to the same length (``same_length``), e.g. as many
  keys as queries, and the axes of others that ``follow`` them (the mask's). Needs the
  reference: right there names the probe's mistake; a known variant's output there names
  that variant's.

Probe calls run in the same sandboxed process as the tests (after them), before any
expected value exists; which test failed is known only afterwards, so every test gets its
probes, and the runner skips them for a function that hung. Probes never change points.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from attn_grade.cases import Case
from attn_grade.compare import matches
from attn_grade.diagnose import VariantOutputs, diagnose
from attn_grade.labspec import LabSpec, MistakeSpec, ProbeSpec
from attn_grade.runner import Call, CallOutcome

MAX_SLICES = 8  # slices probed per test: enough to tell, cheap to run

# outputs of a probe call -> outputs in the frame of the test's expected values, or None
Restore = Callable[[list[np.ndarray]], "list[np.ndarray] | None"]


@dataclass(frozen=True)
class ProbeCall:
    """One call of a probe: derived inputs, and how to compare what comes back."""

    key: str
    probe: ProbeSpec
    case: Case  # the derived inputs (test None: no input is watched)
    restore: Restore | None = None  # None: compare with the reference on the derived inputs
    pick: tuple[int, ...] | None = None  # slices: which slice of the expected outputs

    def call(self, test_key: str) -> Call:
        return dataclasses.replace(self.case.call(), probe_of=test_key)


def probe_calls(lab: LabSpec, case: Case) -> list[ProbeCall]:
    """The probe calls for one test case (none for the example, nor a test that must raise)."""
    if case.test is None or case.test.raises:
        return []
    calls = []
    for probe in lab.probes:
        if probe.function == case.function.name:
            calls += _DERIVE[probe.kind](probe, case)
    return calls


ReferenceVariants = Callable[[Case], "tuple[list[np.ndarray], list[VariantOutputs]]"]


@dataclass(frozen=True)
class ProbeRun:
    """The outcomes of the probe calls, after every student process ended; with the
    reference, what it and its known variants return on derived inputs."""

    outcomes: dict[str, CallOutcome]
    reference_variants: ReferenceVariants | None
    calls: tuple[ProbeCall, ...] = ()

    def for_case(self, calls: list[ProbeCall]) -> ProbeRun:
        return dataclasses.replace(self, calls=tuple(calls))

    def diagnose(
        self, lab: LabSpec, case: Case, expected: list[np.ndarray] | None, raised: bool
    ) -> MistakeSpec | None:
        return probe_diagnosis(
            lab, case, list(self.calls), self.outcomes, expected, self.reference_variants, raised
        )


def probe_diagnosis(
    lab: LabSpec,
    case: Case,
    calls: list[ProbeCall],
    outcomes: dict[str, CallOutcome],
    expected: list[np.ndarray] | None,
    reference_variants: ReferenceVariants | None,
    raised: bool = False,
) -> MistakeSpec | None:
    """The mistake the probes of a failed test name, or None. `expected` are the test's
    expected outputs; `reference_variants(case)` gives the reference's and the known
    variants' outputs on derived inputs (None without the reference); `raised`: the test's
    call raised (a probe with `on = ["wrong"]` speaks only of a wrong result)."""
    assert case.test is not None
    rtol, atol = case.test.rtol, case.test.atol
    kinds = case.function.output_kinds
    for probe in lab.probes:
        mine = [c for c in calls if c.probe is probe]
        if not mine or any(outcomes.get(c.key) is None for c in mine):
            continue
        if ("error" if raised else "wrong") not in probe.options.get("on", ("wrong", "error")):
            continue
        got = [outcomes[c.key] for c in mine]
        if probe.kind == "crop":
            found = _crop_verdict(probe, mine, got, kinds, rtol, atol, reference_variants)
        elif expected is None:
            continue
        elif probe.kind == "move-axis":  # right at any one other position
            found = any(
                _right(c, o, expected, kinds, rtol, atol) for c, o in zip(mine, got)
            ) and _as_mistake(probe)
        else:  # right on every slice, or on the one flattened batch
            found = all(
                _right(c, o, expected, kinds, rtol, atol) for c, o in zip(mine, got)
            ) and _as_mistake(probe)
        if found:
            return found
    return None


def _as_mistake(probe: ProbeSpec) -> MistakeSpec:
    return MistakeSpec(id=probe.id, hint=probe.hint, hint_pt=probe.hint_pt, variants={})


def _right(
    call: ProbeCall,
    outcome: CallOutcome,
    expected: list[np.ndarray],
    kinds: tuple[str, ...],
    rtol: float,
    atol: float,
) -> bool:
    if outcome.status != "ok" or len(outcome.outputs) != len(expected):
        return False
    want = expected if call.pick is None else [e[call.pick] for e in expected]
    got = call.restore(outcome.outputs) if call.restore else outcome.outputs
    return got is not None and all(
        matches(g, w, k, rtol, atol) for g, w, k in zip(got, want, kinds)
    )


def _crop_verdict(
    probe: ProbeSpec,
    calls: list[ProbeCall],
    outcomes: list[CallOutcome],
    kinds: tuple[str, ...],
    rtol: float,
    atol: float,
    reference_variants: ReferenceVariants | None,
) -> MistakeSpec | None:
    if reference_variants is None:
        return None
    for call, outcome in zip(calls, outcomes):
        if outcome.status != "ok":
            continue
        want, variants = reference_variants(call.case)
        if len(outcome.outputs) == len(want) and all(
            matches(g, w, k, rtol, atol) for g, w, k in zip(outcome.outputs, want, kinds)
        ):
            return _as_mistake(probe)
        named = diagnose(outcome.outputs, variants, kinds, rtol, atol)
        if named is not None:
            return named
    return None


# -- deriving inputs --------------------------------------------------------------
def _batch_shape(probe: ProbeSpec, args: dict[str, Any]) -> tuple[int, ...] | None:
    """The broadcast shape of the axes before each argument's core axes, or None."""
    core = probe.options.get("core", {})
    leading = [
        args[name].shape[: args[name].ndim - n]
        for name, n in core.items()
        if isinstance(args.get(name), np.ndarray) and args[name].ndim > n
    ]
    try:
        return np.broadcast_shapes(*leading) if leading else ()
    except ValueError:
        return None


def _batched_args(probe: ProbeSpec, args: dict[str, Any], batch: tuple[int, ...]) -> dict:
    """Every batched argument broadcast to `batch` + its core shape."""
    core = probe.options.get("core", {})
    out = dict(args)
    for name, n in core.items():
        value = args.get(name)
        if isinstance(value, np.ndarray) and value.ndim > n:
            out[name] = np.broadcast_to(value, batch + value.shape[value.ndim - n :])
    return out


def _derived_case(case: Case, key: str, args: dict[str, Any]) -> Case:
    args = {k: np.ascontiguousarray(v) if isinstance(v, np.ndarray) else v for k, v in args.items()}
    return Case(key, case.function, args)


def _slices(probe: ProbeSpec, case: Case) -> list[ProbeCall]:
    batch = _batch_shape(probe, case.args)
    if not batch:
        return []
    full = _batched_args(probe, case.args, batch)
    calls = []
    for n, index in enumerate(list(np.ndindex(*batch))[:MAX_SLICES]):
        args = {
            k: v[index] if k in probe.options.get("core", {}) and _is_batched(probe, k, v) else v
            for k, v in full.items()
        }
        key = f"{case.key}::probe::{probe.id}::{n}"
        calls.append(ProbeCall(key, probe, _derived_case(case, key, args), pick=index))
    return calls


def _is_batched(probe: ProbeSpec, name: str, value: Any) -> bool:
    n = probe.options.get("core", {}).get(name)
    return isinstance(value, np.ndarray) and n is not None and value.ndim > n


def _flat_batch(probe: ProbeSpec, case: Case) -> list[ProbeCall]:
    batch = _batch_shape(probe, case.args)
    if batch is None or len(batch) == 1:
        return []  # already one batch axis: the test itself asks that question
    full = _batched_args(probe, case.args, batch)
    size = math.prod(batch)
    args = {}
    for name, value in full.items():
        if _is_batched(probe, name, value):
            args[name] = value.reshape((size,) + value.shape[len(batch) :])
        elif name in probe.options.get("core", {}) and isinstance(value, np.ndarray) and not batch:
            args[name] = value[None]  # (L, S) -> (1, L, S)
        else:
            args[name] = value

    def restore(outputs: list[np.ndarray]) -> list[np.ndarray] | None:
        if any(o.ndim < 1 or o.shape[0] != size for o in outputs):
            return None
        return [o.reshape(batch + o.shape[1:]) for o in outputs]

    key = f"{case.key}::probe::{probe.id}"
    return [ProbeCall(key, probe, _derived_case(case, key, args), restore=restore)]


def _move_axis(probe: ProbeSpec, case: Case) -> list[ProbeCall]:
    array_name, axis_name = probe.options["array"], probe.options["axis"]
    x = case.args.get(array_name)
    if not isinstance(x, np.ndarray) or x.ndim < 2:
        return []
    axis = case.args.get(axis_name, probe.options.get("default_axis", -1))
    if not isinstance(axis, int) or not -x.ndim <= axis < x.ndim:
        return []
    axis %= x.ndim
    calls = []
    for target in range(x.ndim):
        if target == axis:
            continue
        args = dict(case.args)
        args[array_name] = np.moveaxis(x, axis, target)
        args[axis_name] = target

        def restore(outputs, target=target):
            if any(o.ndim != x.ndim for o in outputs):
                return None
            return [np.moveaxis(o, target, axis) for o in outputs]

        key = f"{case.key}::probe::{probe.id}::{target}"
        calls.append(ProbeCall(key, probe, _derived_case(case, key, args), restore=restore))
    return calls


def _crop(probe: ProbeSpec, case: Case) -> list[ProbeCall]:
    """`same_length = [[a, axis_a], [b, axis_b]]`: the longer of the two axes cut to the
    shorter's length. `follow = { mask = [axis for a, axis for b] }`: those axes of another
    argument are cut alike; a boolean one keeps no row with nothing to attend to (the
    student and the reference get the same derived input, so any valid one will do)."""
    (a, axis_a), (b, axis_b) = probe.options["same_length"]
    x, y = case.args.get(a), case.args.get(b)
    if not isinstance(x, np.ndarray) or not isinstance(y, np.ndarray):
        return []
    if x.ndim <= axis_a or y.ndim <= axis_b or x.shape[axis_a] == y.shape[axis_b]:
        return []
    length = min(x.shape[axis_a], y.shape[axis_b])
    args = dict(case.args)
    cuts = {a: [(axis_a, x.shape[axis_a])], b: [(axis_b, y.shape[axis_b])]}
    for name, (follow_a, follow_b) in probe.options.get("follow", {}).items():
        cuts[name] = [(follow_a, x.shape[axis_a]), (follow_b, y.shape[axis_b])]
    for name, axes in cuts.items():
        value = args.get(name)
        if not isinstance(value, np.ndarray):
            continue
        for axis, size in axes:
            if -value.ndim <= axis < value.ndim and value.shape[axis] == size > length:
                value = np.take(value, np.arange(length), axis=axis)
        if value.dtype == np.bool_ and value.ndim:
            value = value | ~value.any(axis=-1, keepdims=True)  # no fully masked row
        args[name] = value
    key = f"{case.key}::probe::{probe.id}"
    return [ProbeCall(key, probe, _derived_case(case, key, args))]


_DERIVE: dict[str, Callable[[ProbeSpec, Case], list[ProbeCall]]] = {
    "slices": _slices,
    "flat-batch": _flat_batch,
    "move-axis": _move_axis,
    "crop": _crop,
}
