"""Lab specs: the data that says what a lab grades.

A lab lives in ``labs/<id>/lab.toml`` inside this package. It names the student
modules and functions, the tests (inputs as generators, points, visibility,
tolerances), the known mistakes and the deliverables. The engine reads only
this; nothing in the engine is specific to one lab.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from attn_grade.errors import LabSpecError, UsageError
from attn_grade.translation import N_, Sentence

LABS_DIR = Path(__file__).parent / "labs"
VISIBILITIES = ("public", "hidden")
# test kinds: "values" compares outputs (and raises, check_unchanged); "speed" times two
# functions in the student's process (checks/speed.py); "gradient" grades a backward like
# "values" and checks it against centred differences of the student's forward
# (checks/gradient.py); "training" runs a training loop there and judges the parameters it
# returns (checks/training.py). A kind's own options sit in a table of the test named after
# the kind, e.g. [tests.speed].
TEST_KINDS = ("values", "speed", "gradient", "training")


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    module: str
    signature: str
    positional: tuple[str, ...]
    outputs: tuple[str, ...]
    # "float" (compared with tolerances) or "bool" (compared exactly), one per output
    output_kinds: tuple[str, ...]
    signature_pt: str = ""  # the signature's prose in Portuguese (the English one when absent)

    def signature_in(self, lang: str) -> str:
        """The signature in `lang` (its names and shapes are code: only prose differs)."""
        return self.signature_pt if lang == "pt" and self.signature_pt else self.signature


@dataclass(frozen=True)
class TestSpec:
    name: str
    function: str
    points: float
    visibility: str
    description: str
    args: dict[str, Any]  # argument name -> generator table (see inputs.py)
    rtol: float
    atol: float
    check_unchanged: tuple[str, ...] = ()
    # a test that expects the call to raise, e.g. "ValueError"
    raises: str | None = None
    kind: str = "values"  # one of TEST_KINDS
    options: dict[str, Any] = field(default_factory=dict)  # the kind's own table
    description_pt: str = ""  # the description in Portuguese (the English one when absent)

    def described(self, lang: str) -> str:
        """The description in `lang`."""
        return self.description_pt if lang == "pt" and self.description_pt else self.description


@dataclass(frozen=True)
class MistakeSpec:
    id: str
    hint: str
    hint_pt: str
    # function name -> names of wrong variants in solutions/<lab>/known_mistakes.py
    variants: dict[str, tuple[str, ...]]


PROBE_KINDS = ("slices", "flat-batch", "move-axis", "crop")


@dataclass(frozen=True)
class ProbeSpec:
    """A diagnosis by probing: when a test of `function` fails or raises, the student's
    function also ran on inputs derived from the test's (probes.py says how, per kind);
    if it is right on those, the mistake is `id`. A probe never changes points."""

    id: str
    kind: str  # one of PROBE_KINDS
    function: str
    hint: str
    hint_pt: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExampleSpec:
    function: str
    output: str
    tokens: tuple[str, ...]
    args: dict[str, Any]


@dataclass(frozen=True)
class DeliverableSpec:
    id: str
    kind: str
    title: str
    points: float
    options: dict[str, Any] = field(default_factory=dict)
    title_pt: str = ""  # the title in Portuguese (the English one when absent)

    def titled(self, lang: str) -> str:
        """The title in `lang`."""
        return self.title_pt if lang == "pt" and self.title_pt else self.title


@dataclass(frozen=True)
class LabSpec:
    id: str
    title: str
    level: str
    minutes: int
    prerequisites: tuple[str, ...]
    modules: tuple[str, ...]
    time_limit: float
    time_budget: float | None  # seconds for all of a submission's tests; None: no budget
    functions: dict[str, FunctionSpec]
    tests: tuple[TestSpec, ...]
    mistakes: tuple[MistakeSpec, ...]
    example: ExampleSpec | None
    deliverables: tuple[DeliverableSpec, ...]
    forbidden_imports: tuple[str, ...]
    spec_dir: Path
    probes: tuple[ProbeSpec, ...] = ()
    title_pt: str = ""  # the title in Portuguese (the English one when absent)

    def titled(self, lang: str) -> str:
        """The lab's title in `lang`."""
        return self.title_pt if lang == "pt" and self.title_pt else self.title

    @property
    def max_test_points(self) -> float:
        return sum(t.points for t in self.tests)

    def tests_with(self, visibility: str) -> tuple[TestSpec, ...]:
        return tuple(t for t in self.tests if t.visibility == visibility)

    def mistakes_for(self, function: str) -> list[tuple[MistakeSpec, str]]:
        """(mistake, variant name) pairs that apply to `function`, in diagnosis order."""
        return [(m, v) for m in self.mistakes for v in m.variants.get(function, ())]

    @property
    def public_data_path(self) -> Path:
        """Frozen public inputs and expectations (written by `attn-grade freeze`)."""
        return self.spec_dir / "public.npz"


def lab_ids() -> list[str]:
    return sorted(p.name for p in LABS_DIR.iterdir() if (p / "lab.toml").is_file())


@cache
def load_lab(lab_id: str) -> LabSpec:
    path = LABS_DIR / lab_id / "lab.toml"
    if not path.is_file():
        known = ", ".join(lab_ids()) or "none"
        raise UsageError(Sentence(N_("Unknown lab {lab}. Labs in this kit: {known}."),
                                  {"lab": repr(lab_id), "known": known}))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise LabSpecError(f"{path}: {exc}") from exc
    return parse_lab(data, path.parent)


def parse_lab(data: dict[str, Any], spec_dir: Path) -> LabSpec:
    where = spec_dir / "lab.toml"
    lab = _require(data, "lab", where)
    rtol = float(lab.get("rtol", 1e-3))
    atol = float(lab.get("atol", 1e-4))
    functions = {
        name: _parse_function(name, table, where)
        for name, table in _require(data, "functions", where).items()
    }
    tests = tuple(_parse_test(t, functions, rtol, atol, where) for t in data.get("tests", []))
    names = [t.name for t in tests]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise LabSpecError(f"{where}: duplicate test names {duplicates}")
    mistakes = tuple(_parse_mistake(m, functions, where) for m in data.get("mistakes", []))
    probes = tuple(_parse_probe(p, functions, where) for p in data.get("probes", []))
    example = None
    if "example" in data:
        ex = data["example"]
        example = ExampleSpec(
            function=_known(ex["function"], functions, where),
            output=ex["output"],
            tokens=tuple(ex["tokens"]),
            args=dict(ex["args"]),
        )
    deliverables = tuple(
        DeliverableSpec(
            id=d["id"],
            kind=d["kind"],
            title=d["title"],
            title_pt=d.get("title_pt", ""),
            points=float(d.get("points", 0)),
            options={
                k: v for k, v in d.items() if k not in ("id", "kind", "title", "title_pt", "points")
            },
        )
        for d in data.get("deliverables", [])
    )
    return LabSpec(
        id=_require(lab, "id", where),
        title=_require(lab, "title", where),
        title_pt=lab.get("title_pt", ""),
        level=lab.get("level", "beginner"),
        minutes=int(lab.get("minutes", 60)),
        prerequisites=tuple(lab.get("prerequisites", [])),
        modules=tuple(_require(lab, "modules", where)),
        time_limit=float(lab.get("time_limit", 10.0)),
        time_budget=float(lab["time_budget"]) if lab.get("time_budget") else None,
        functions=functions,
        tests=tests,
        mistakes=mistakes,
        example=example,
        deliverables=deliverables,
        forbidden_imports=tuple(lab.get("forbidden_imports", [])),
        spec_dir=spec_dir,
        probes=probes,
    )


def _require(table: dict[str, Any], key: str, where: Path) -> Any:
    if key not in table:
        raise LabSpecError(f"{where}: missing required key {key!r}")
    return table[key]


def _known(function: str, functions: dict[str, FunctionSpec], where: Path) -> str:
    if function not in functions:
        raise LabSpecError(f"{where}: unknown function {function!r}")
    return function


def _parse_function(name: str, table: dict[str, Any], where: Path) -> FunctionSpec:
    outputs = tuple(table.get("outputs", ["result"]))
    kinds = tuple(table.get("output_kinds", ["float"] * len(outputs)))
    if len(kinds) != len(outputs) or any(k not in ("float", "bool") for k in kinds):
        raise LabSpecError(f"{where}: functions.{name}.output_kinds must be float/bool per output")
    return FunctionSpec(
        name=name,
        module=_require(table, "module", where),
        signature=table.get("signature", f"{name}(...)"),
        signature_pt=str(table.get("signature_pt", "")),
        positional=tuple(table.get("positional", [])),
        outputs=outputs,
        output_kinds=kinds,
    )


def _parse_test(
    table: dict[str, Any], functions: dict[str, FunctionSpec], rtol: float, atol: float, where: Path
) -> TestSpec:
    name = _require(table, "name", where)
    visibility = table.get("visibility", "public")
    if visibility not in VISIBILITIES:
        raise LabSpecError(f"{where}: test {name}: visibility must be one of {VISIBILITIES}")
    kind = table.get("kind", "values")
    if kind not in TEST_KINDS:
        raise LabSpecError(f"{where}: test {name}: kind must be one of {TEST_KINDS}")
    return TestSpec(
        name=name,
        function=_known(_require(table, "function", where), functions, where),
        points=float(table.get("points", 1)),
        visibility=visibility,
        description=table.get("description", ""),
        description_pt=table.get("description_pt", ""),
        args=dict(table.get("args", {})),
        rtol=float(table.get("rtol", rtol)),
        atol=float(table.get("atol", atol)),
        check_unchanged=tuple(table.get("check_unchanged", [])),
        raises=table.get("raises"),
        kind=kind,
        options=dict(table.get(kind, {})) if kind != "values" else {},
    )


def _parse_mistake(
    table: dict[str, Any], functions: dict[str, FunctionSpec], where: Path
) -> MistakeSpec:
    variants = {
        _known(fn, functions, where): tuple([names] if isinstance(names, str) else names)
        for fn, names in _require(table, "variants", where).items()
    }
    return MistakeSpec(
        id=_require(table, "id", where),
        hint=_require(table, "hint", where),
        hint_pt=table.get("hint_pt", table["hint"]),
        variants=variants,
    )


def _parse_probe(
    table: dict[str, Any], functions: dict[str, FunctionSpec], where: Path
) -> ProbeSpec:
    kind = _require(table, "kind", where)
    if kind not in PROBE_KINDS:
        raise LabSpecError(f"{where}: probe kind {kind!r} is not one of {PROBE_KINDS}")
    fixed = ("id", "kind", "function", "hint", "hint_pt")
    return ProbeSpec(
        id=_require(table, "id", where),
        kind=kind,
        function=_known(_require(table, "function", where), functions, where),
        hint=_require(table, "hint", where),
        hint_pt=table.get("hint_pt", table["hint"]),
        options={k: v for k, v in table.items() if k not in fixed},
    )
