"""The reading list: what to read or watch before, during and after each lab.

The data is ``reading_list.toml`` in this package, so a clone and a ``pip install``
read the same file. In a clone, ``reading_list/README.md`` is generated from it by
:func:`render_readme` (``attn-grade reading --write-readme``); a test compares them.
Handouts and checklists cite an entry as ``<!-- reading: ID -->``.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from attn_grade.errors import AttnGradeError, UsageError
from attn_grade.labspec import LabSpec, lab_ids, load_lab
from attn_grade.translation import N_

DATA_PATH = Path(__file__).parent / "reading_list.toml"
README_NAME = Path("reading_list") / "README.md"

KINDS = (N_("paper"), N_("video"), N_("article"), N_("tutorial"), N_("visualizer"), N_("book"),
         N_("course"), N_("code"))  # marked: the reading table shows them translated
LANGUAGES = {"en": "English", "pt": "Portuguese"}
LEVELS = (N_("beginner"), N_("intermediate"), N_("advanced"))
# The order within a lab: stage first, then the order of the data file.
STAGES = {"before": N_("Before you start"), "during": N_("While you code"), "after": N_("To go further")}

# an id never holds "<": each "<!--" starts a scan that ends at the next one (with "<"
# allowed, many unclosed tags took quadratic time)
READING_TAG = re.compile(r"<!--\s*reading:\s*(?P<id>[^\s<>]+)\s*-->")
_ID = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
_LAB = re.compile(r"^lab\d{2}$")
_REQUIRED = ("id", "title", "author", "url", "kind", "language", "minutes", "level", "labs", "why")
_OPTIONAL = ("year", "alternative_to", "why_pt")


class ReadingListError(AttnGradeError):
    """reading_list.toml does not follow its format (the message lists every problem)."""


@dataclass(frozen=True)
class Reading:
    id: str
    title: str
    author: str
    url: str
    kind: str
    language: str
    minutes: int
    level: str
    labs: dict[str, str]  # lab id -> stage
    why: str
    year: int | None = None
    alternative_to: str | None = None  # the same content in another form: counted once
    why_pt: str = ""  # `why` in Portuguese (`why` itself when absent)

    def why_in(self, lang: str) -> str:
        """The annotation in `lang`."""
        return self.why_pt if lang == "pt" and self.why_pt else self.why


@dataclass(frozen=True)
class LabReadings:
    """One lab's readings, grouped by stage in the order to study."""

    lab: str
    spec: LabSpec | None  # None while a lab has readings but no spec yet
    stages: list[tuple[str, list[Reading]]]

    @property
    def heading(self) -> str:
        return self.heading_in("en")

    def heading_in(self, lang: str) -> str:
        """"lab01: its title", the title in `lang`."""
        return f"{self.lab}: {self.spec.titled(lang)}" if self.spec else self.lab


@dataclass(frozen=True)
class ReadingList:
    readings: tuple[Reading, ...]

    def get(self, reading_id: str) -> Reading | None:
        return next((r for r in self.readings if r.id == reading_id), None)

    @property
    def labs(self) -> set[str]:
        return {lab for r in self.readings for lab in r.labs}

    def for_lab(self, lab: str) -> list[tuple[str, list[Reading]]]:
        """(stage, readings) pairs for one lab, stages in study order, empty stages left out."""
        stages = [(s, [r for r in self.readings if r.labs.get(lab) == s]) for s in STAGES]
        return [(s, group) for s, group in stages if group]

    def filtered(self, kind: str | None = None, language: str | None = None) -> ReadingList:
        return ReadingList(
            tuple(
                r
                for r in self.readings
                if kind in (None, r.kind) and language in (None, r.language)
            )
        )


# ------------------------------------------------------------------- loading
@cache
def load_reading_list(path: Path = DATA_PATH) -> ReadingList:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReadingListError(f"cannot read the reading list {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ReadingListError(f"{path}: {exc}") from exc
    return parse_reading_list(data, str(path))


def parse_reading_list(data: dict[str, Any], where: str = "reading list") -> ReadingList:
    """Check every entry and report every problem at once, each with the entry it is in."""
    problems: list[str] = []
    readings = []
    for n, entry in enumerate(data.get("reading", []), start=1):
        name = f"entry {n} ({entry.get('id', 'no id')})"
        found = _entry_problems(entry)
        problems += [f"{name}: {p}" for p in found]
        if not found:
            readings.append(_reading(entry))
    if not data.get("reading"):
        problems.append("no [[reading]] entries")
    ids = {r.id for r in readings}
    problems += [
        f"{r.id}: alternative_to names an unknown id {r.alternative_to!r}"
        for r in readings
        if r.alternative_to is not None and r.alternative_to not in ids
    ]
    for field in ("id", "url"):
        values = [getattr(r, field) for r in readings]
        problems += [
            f"duplicate {field} {v!r}" for v in sorted({v for v in values if values.count(v) > 1})
        ]
    if problems:
        raise ReadingListError(f"{where}:\n  " + "\n  ".join(problems))
    return ReadingList(tuple(readings))


def _entry_problems(entry: dict[str, Any]) -> list[str]:
    problems = [f"missing {key!r}" for key in _REQUIRED if key not in entry]
    problems += [f"unknown key {key!r}" for key in entry if key not in _REQUIRED + _OPTIONAL]
    if problems:
        return problems
    if "why_pt" in entry and (not isinstance(entry["why_pt"], str) or not entry["why_pt"].strip()):
        problems.append("why_pt must be a non-empty string")
    for key in ("id", "title", "author", "url", "why"):
        if not isinstance(entry[key], str) or not entry[key].strip():
            problems.append(f"{key} must be a non-empty string")
    if problems:
        return problems
    if not _ID.match(entry["id"]):
        problems.append("id must be lower-case letters, digits, '-' and '.'")
    problems += url_problems(entry["url"])
    problems += _choice("kind", entry["kind"], KINDS)
    problems += _choice("language", entry["language"], tuple(LANGUAGES))
    problems += _choice("level", entry["level"], LEVELS)
    minutes = entry["minutes"]
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
        problems.append(f"minutes must be a positive whole number, not {minutes!r}")
    year = entry.get("year")
    if year is not None and (not isinstance(year, int) or not 1900 < year < 2100):
        problems.append(f"year must be a year like 2017, not {year!r}")
    labs = entry["labs"]
    if not isinstance(labs, dict) or not labs:
        problems.append('labs must be a table like { lab01 = "before" }')
    else:
        problems += [f"{lab!r} is not a lab id like lab01" for lab in labs if not _LAB.match(lab)]
        for lab, stage in labs.items():
            problems += _choice(f"labs.{lab}", stage, tuple(STAGES))
    return problems


def _choice(key: str, value: Any, allowed: tuple[str, ...]) -> list[str]:
    return [] if value in allowed else [f"{key} must be one of {', '.join(allowed)}; not {value!r}"]


def url_problems(url: str) -> list[str]:
    """Offline checks only: an https address with a host and nothing that breaks a link."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        return [f"url must start with https:// ({url!r})"]
    if not parts.hostname or "." not in parts.hostname:
        return [f"url has no host name ({url!r})"]
    if any(c.isspace() for c in url) or any(c in url for c in "<>\"'`|"):
        return [f"url contains a space or a character that breaks links ({url!r})"]
    return []


def _reading(entry: dict[str, Any]) -> Reading:
    return Reading(**{key: entry[key] for key in _REQUIRED + _OPTIONAL if key in entry})


def cited_ids(text: str) -> list[str]:
    """The reading ids a Markdown text cites as <!-- reading: ID -->, in order."""
    return [m["id"] for m in READING_TAG.finditer(text)]


# --------------------------------------------------------------- study order
def study_order(specs: list[LabSpec]) -> list[LabSpec]:
    """Labs so that each comes after its prerequisites; ties (and cycles) by id."""
    remaining = sorted(specs, key=lambda s: s.id)
    known = {s.id for s in specs}
    order: list[LabSpec] = []
    while remaining:
        placed = {s.id for s in order}
        ready = [s for s in remaining if set(s.prerequisites) & known <= placed]
        order.append(ready[0] if ready else remaining[0])
        remaining.remove(order[-1])
    return order


def lab_specs_in_order() -> list[LabSpec]:
    return study_order([load_lab(lab) for lab in lab_ids()])


def by_lab(readings: ReadingList, lab: str | None = None) -> list[LabReadings]:
    """The readings grouped by lab, labs in the order to study; labs that have readings
    but no spec yet come last. With `lab`, only that lab (UsageError if unknown)."""
    specs = {s.id: s for s in lab_specs_in_order()}
    order = list(specs) + sorted(readings.labs - set(specs))
    if lab is not None:
        if lab not in order:
            raise UsageError(f"Unknown lab {lab!r}. Labs with readings: {', '.join(order)}.")
        order = [lab]
    return [LabReadings(lab_id, specs.get(lab_id), readings.for_lab(lab_id)) for lab_id in order]


# ------------------------------------------------------------------ the README
def kit_root() -> Path | None:
    """The clone of the kit this package runs from, or None for an installed package."""
    root = Path(__file__).resolve().parents[2]
    return (
        root if (root / "pyproject.toml").is_file() and (root / "reading_list").is_dir() else None
    )


def readme_path() -> Path:
    root = kit_root()
    if root is None:
        raise UsageError("reading_list/README.md lives in a clone of the kit; run this from one.")
    return root / README_NAME


def format_minutes(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def total_minutes(readings: list[Reading]) -> int:
    """The time a group takes: an alternative to another reading of the group counts once."""
    ids = {r.id for r in readings}
    return sum(r.minutes for r in readings if r.alternative_to not in ids)


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render_readme(readings: ReadingList, groups: list[LabReadings]) -> str:
    """The Markdown of reading_list/README.md: per lab, per stage, in the order to study."""
    lines = [
        "# Reading list",
        "",
        "<!-- Generated from grader/attn_grade/reading_list.toml by "
        "`attn-grade reading --write-readme`. Edit the TOML, then regenerate. -->",
        "",
        "What to read or watch for each lab, in the order to study: labs in order, and in each "
        "lab, what to read **before you start**, what to keep open **while you code**, and what "
        "to read **to go further** once your lab passes. Resources in Portuguese are marked "
        "**pt** (em português).",
        "",
        "In the terminal: `attn-grade reading lab01` (one lab), `attn-grade reading` (all labs), "
        "`--kind video` or `--language pt` to filter. Tick what you have read in your lab's "
        "`CHECKLIST.md`; `attn-grade progress` counts it.",
        "",
    ]
    for group in groups:
        lines += _lab_section(group)
    lines += [
        "## All resources",
        "",
        "| ID | Resource | Kind | Labs |",
        "| --- | --- | --- | --- |",
    ]
    for r in sorted(readings.readings, key=lambda r: r.id):
        labs = ", ".join(f"{lab} ({stage})" for lab, stage in r.labs.items())
        lines.append(f"| `{r.id}` | [{_md(r.title)}]({r.url}) | {r.kind} | {labs} |")
    return "\n".join(lines) + "\n"


def _lab_section(group: LabReadings) -> list[str]:
    lines = [f"## {group.heading}", ""]
    if group.spec is not None:
        needs = ", ".join(group.spec.prerequisites) or "nothing"
        lines += [
            f"Level {group.spec.level}; about {format_minutes(group.spec.minutes)} of lab "
            f"work; needs {needs}.",
            "",
        ]
    number = 0
    for stage, readings in group.stages:
        total = format_minutes(total_minutes(readings))
        lines += [
            f"### {STAGES[stage]} (about {total})",
            "",
            "| # | Resource | Kind | Time | Level | Lang | Why | ID |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in readings:
            number += 1
            year = f" ({r.year})" if r.year else ""
            lang = "**pt**" if r.language == "pt" else r.language
            lines.append(
                f"| {number} | [{_md(r.title)}]({r.url}), {_md(r.author)}{year} | {r.kind} "
                f"| {format_minutes(r.minutes)} | {r.level} | {lang} | {_md(r.why)} | `{r.id}` |"
            )
        lines.append("")
    return lines
