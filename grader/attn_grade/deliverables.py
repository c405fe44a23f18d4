"""Check a lab's deliverables: what the student produces besides passing tests.

Kinds (the `kind` of a [[deliverables]] table in lab.toml):
    script-png      run `script` in the sandbox with the output paths as argv[1:];
                    it must write a PNG at each (`produces`: a name or a list of
                    names, next to the submission) that decodes, within a size
                    limit, to a plausible heatmap: at least MIN_PNG_SIDE pixels
                    a side, and more than a few colours
    script-gradcheck
                    run `script` like a script-png; it writes a table of relative
                    errors at `produces`, which must match the grader's own
                    measurement of the gradient `tests` (checks/gradcheck_table.py)
    report-answer   a section of REPORT.md answered: `min_words`, and one of `keywords`
    report-score    a REPORT.md section names one attention score of the example
                    sentence, "Score: QUERY -> KEY = N.NN", that matches the
                    student's own weights within `tolerance`, and explains it; the
                    student's weights on the example must also be the reference's
                    (weights made up for the example sentence alone earn nothing)
    report-numbers  a REPORT.md section quotes numbers a test of `function` measured on
                    the student's code (a training test's held-out losses), one line
                    each, "LABEL: N.NN" (`numbers`: the test result's `outcome` name, its
                    `label` and `label_pt`); each must match the grader's own measurement
                    within `tolerance`: numbers made up, or from another run than the one
                    the lab asks for, earn nothing
"""

from __future__ import annotations

import io
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from attn_grade.checks import gradcheck_table
from attn_grade.labspec import DeliverableSpec, LabSpec
from attn_grade.result import ChecklistItem, DeliverableResult, ExampleWeights, TestResult
from attn_grade.runner import Call, CallOutcome, Limits, run_calls
from attn_grade.safe_files import open_folder, read_regular, remove_file, write_file
from attn_grade.translation import N_, gettext_for, where_text

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_PNG_BYTES = 16 * 1024 * 1024
MAX_PNG_PIXELS = 4096 * 4096  # decoded only below this: a PNG bomb is refused unread
MIN_PNG_SIDE = 64  # pixels: a heatmap of a few tokens with their labels is larger
MIN_PNG_COLOURS = 8  # a flat or two-colour image is not a heatmap
SCORE_EXAMPLE = N_("Score: QUERY -> KEY = N.NN")  # translated where shown
SCORE_LINE = re.compile(
    r"(?:score|peso)\s*:\s*[\"'`]?(?P<query>[^\"'`\s]+)[\"'`]?\s*(?:->|→)\s*"
    r"[\"'`]?(?P<key>[^\"'`\s]+)[\"'`]?\s*=\s*(?P<weight>[0-9]*[.,]?[0-9]+)",
    re.IGNORECASE,
)


@dataclass
class ScriptRun:
    """A deliverable script's run, started before the checks (it runs beside the tests)."""

    spec: DeliverableSpec
    outcome: CallOutcome
    started: float
    output: str
    # what the script wrote at each `produces` name, read from the run's own folder once
    # every student process was gone (None: not written, or not a plain single-link file)
    files: dict[str, bytes | None] = field(default_factory=dict)
    # a script-gradcheck's: the grader's own measurement, (function, gradient) -> error,
    # or why it could not be measured (gradcheck_table.Unmeasured)
    measured: dict = field(default_factory=dict)


def script_deliverables(specs: tuple[DeliverableSpec, ...]) -> list[DeliverableSpec]:
    return [d for d in specs if d.kind in ("script-png", "script-gradcheck")]


def run_script(
    spec: DeliverableSpec, submission: Path, limits: Limits, lab: LabSpec | None = None
) -> ScriptRun:
    """Run the script in the sandbox; it writes into a folder of the run, and only the
    files it was asked for, if they are regular files, come back next to the submission.

    `submission` is always a folder of the grader's or the student's own (`check`): a
    batch or Gradescope grades a private copy, never the folder it was handed."""
    started = time.time()
    script = spec.options["script"]
    if not (submission / script).is_file():
        return ScriptRun(spec, CallOutcome("missing", message=f"{script} not found"), started, "")
    names = [Path(name).name for name in _produces(spec)]
    call = Call(spec.id, Path(script).stem, None, [], {}, 0, produces=tuple(names))
    record = run_calls(submission, [call], limits)  # every student process is gone after it
    for name in names:
        _copy_back(record.files.get(name), submission, name)
    run = ScriptRun(spec, record.outcomes[spec.id], started, record.output, record.files)
    if spec.kind == "script-gradcheck" and lab is not None:
        # the grader's own measurement runs in processes of a run of its own, which the
        # script never touched: a script that patched forward.* or backward.* in its
        # interpreter patched nothing there
        measurement = run_calls(submission, gradcheck_table.table_calls(lab, spec), limits)
        run.measured = gradcheck_table.measure_table(lab, spec, measurement.outcomes)
    return run


def _copy_back(data: bytes | None, folder: Path, name: str) -> None:
    """Put what the script wrote at folder/name: a new file renamed over whatever is there
    (a link planted there is replaced, never followed). Nothing written: an older file of
    that name is removed, so that a stale or planted one never passes for this run's."""
    try:
        if data is None:
            remove_file(folder, name)
        else:
            write_file(folder, name, data, mode=0o644)
    except OSError:
        pass  # a read-only submission folder: the check reports no PNG


def check_deliverables(
    specs: tuple[DeliverableSpec, ...],
    submission: Path,
    scripts: dict[str, ScriptRun],
    example: ExampleWeights | None,
    lang: str = "en",
    tests: Sequence[TestResult] = (),
) -> list[DeliverableResult]:
    """Each deliverable's status and message (in `lang`); `tests`: the graded tests, whose
    measurements a report-numbers deliverable quotes."""
    _ = gettext_for(lang)
    results = []
    chosen: dict[str, str] = {}  # REPORT.md -> the one filled, read once for every section
    for spec in specs:
        if "file" in spec.options:  # REPORT.md, or REPORT.pt-BR.md if that is the one filled
            name = spec.options["file"]
            if name not in chosen:
                chosen[name] = filled_handout(submission, name, lang).name
            spec = replace(spec, options={**spec.options, "file": chosen[name]})
        if spec.kind == "report-numbers":  # the one kind that reads the tests' results
            status, message = _check_report_numbers(spec, submission, tests, lang)
        else:
            status, message = _CHECKS[spec.kind](spec, submission, scripts, example, _)
        points = spec.points if status == "done" else 0.0
        results.append(
            DeliverableResult(spec.id, spec.titled(lang), status, points, spec.points, message)
        )
    return results


def _check_script_png(spec, submission, scripts, example, _=str) -> tuple[str, str]:
    run = scripts[spec.id]
    script = spec.options["script"]
    ran = _script_ran(run, script, _)
    if ran is not None:
        return ran
    names = _produces(spec)
    for n, name in enumerate(names, start=1):
        data = run.files.get(Path(name).name)  # read from the run's folder, not the student's
        if data is None:
            return "incomplete", _(
                "{script} ran but wrote no {name} (it gets the path to write as sys.argv[{n}])"
            ).format(script=script, name=name, n=n)
        problem = png_problem(data, _)
        if problem:
            return "failed", f"{name} {problem}"
    return "done", _("wrote {files}").format(files=", ".join(names))


def _script_ran(run: ScriptRun, script: str, _: Callable[[str], str]) -> tuple[str, str] | None:
    """None when the script ran to its end, else the deliverable's status and message."""
    if run.outcome.status == "missing":
        if run.outcome.message == f"{script} not found":  # run_script's own words
            return "missing", _("{script} not found").format(script=script)
        return "missing", run.outcome.message
    if run.outcome.status != "ok":
        outcome = run.outcome
        # the grader's own sentence, translated; a timeout's already says where it was
        problem = outcome.sentence.translated_with(_) if outcome.sentence else outcome.message
        if outcome.where and outcome.status != "timeout":
            problem += f" ({where_text(outcome.where, _)})"
        return "failed", _("{script} failed: {problem}").format(script=script, problem=problem)
    return None


def _check_script_gradcheck(spec, submission, scripts, example, _=str) -> tuple[str, str]:
    run = scripts[spec.id]
    ran = _script_ran(run, spec.options["script"], _)
    return ran if ran is not None else gradcheck_table.check_table(spec, run, _)


def png_problem(data: bytes, _: Callable[[str], str] = str) -> str | None:
    """Why `data` is not a plausible heatmap PNG ("is not a PNG image", ...), or None;
    `_` translates."""
    if data[:8] != PNG_MAGIC:
        return _("is not a PNG image")
    if len(data) > MAX_PNG_BYTES:
        return _("is larger than {size} MiB").format(size=MAX_PNG_BYTES // 2**20)
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
            width, height = image.size
            if width * height > MAX_PNG_PIXELS:
                return _("is {width} x {height} pixels: too large for a heatmap").format(
                    width=width, height=height
                )
            if min(width, height) < MIN_PNG_SIDE:
                return _(
                    "is {width} x {height} pixels: too small for a heatmap "
                    "(at least {side} x {side})"
                ).format(width=width, height=height, side=MIN_PNG_SIDE)
            image.load()
            colours = image.convert("RGB").getcolors(maxcolors=MIN_PNG_COLOURS)
    except Image.DecompressionBombError:  # Pillow's own limit, above ours
        return _("is too large for a heatmap")
    except Exception:  # noqa: BLE001 - any decoding failure means a broken image
        return _("is not a readable PNG image (truncated or damaged)")
    if colours is not None:  # None: more than MIN_PNG_COLOURS colours
        return _("has only {count} colour(s): it does not show a heatmap").format(
            count=len(colours)
        )
    return None


def _produces(spec: DeliverableSpec) -> list[str]:
    """`produces` is one file name or a list; the script gets their paths as sys.argv[1:]."""
    produces = spec.options["produces"]
    return [produces] if isinstance(produces, str) else list(produces)


def report_section(path: Path, heading: str) -> str | None:
    """The text under the first Markdown heading starting with `heading`, without the
    template's instructions (> quotes) and HTML comments; None if there is no such heading."""
    text = _read_handout(path)
    if text is None:
        return None
    lines, inside = [], False
    for line in text.splitlines():
        title = re.match(r"#{1,6}\s+(.*)", line)
        if title:
            if inside:
                break
            inside = title.group(1).strip().lower().startswith(heading.lower())
            continue
        if inside and not line.lstrip().startswith(">"):
            lines.append(line)
    return "\n".join(lines).strip() if inside else None


MAX_HANDOUT_BYTES = 256 * 1024  # a REPORT.md or CHECKLIST.md is a few KiB
MAX_SCORED_LINE = 300  # characters of a line SCORE_LINE looks at (it backtracks)


def _read_text(path: Path) -> str | None:
    """A student's text file: a regular file (never through a link, as root neither) of at
    most MAX_HANDOUT_BYTES, else None."""
    try:
        folder = open_folder(path.parent)
    except OSError:
        return None
    try:
        data = read_regular(folder, path.name, MAX_HANDOUT_BYTES)
    finally:
        os.close(folder)
    return None if data is None else data.decode("utf-8", errors="replace")


def _read_handout(path: Path) -> str | None:
    """A student's Markdown file without its HTML comments (see _read_text)."""
    text = _read_text(path)
    return None if text is None else _without_comments(text)


def _without_comments(text: str) -> str:
    """`text` without its HTML comments, cut in one pass (a regex over many unclosed
    "<!--" takes quadratic time)."""
    kept, start = [], 0
    while (opening := text.find("<!--", start)) >= 0:
        kept.append(text[start:opening])
        closing = text.find("-->", opening + 4)
        if closing < 0:
            return "".join(kept)  # an unclosed comment runs to the end
        start = closing + 3
    return "".join(kept) + text[start:]


PORTUGUESE_HANDOUT = ".pt-BR"  # REPORT.md -> REPORT.pt-BR.md


def portuguese_twin(name: str) -> str:
    """The Portuguese version of a handout's name: REPORT.md -> REPORT.pt-BR.md."""
    path = Path(name)
    return str(path.with_name(f"{path.stem}{PORTUGUESE_HANDOUT}{path.suffix}"))


def filled_handout(folder: Path, name: str, lang: str = "en") -> Path:
    """Which of a handout the student fills in (CHECKLIST.md, REPORT.md) and its
    Portuguese twin (CHECKLIST.pt-BR.md, REPORT.pt-BR.md) to read. The kit ships both and
    a student fills one: the one in the report's language `lang` if the student wrote in
    it (a ticked item, or words under its sections besides the template's > instructions),
    else the other one if the student wrote in it, else the one in `lang`; the one that
    exists when only one does."""
    own, twin = folder / name, folder / portuguese_twin(name)
    texts = {path: _read_text(path) for path in (own, twin)}
    present = [path for path in (own, twin) if texts[path] is not None]
    if not present:
        return own
    preferred = twin if lang == "pt" else own
    return max(present, key=lambda path: (any(_filled(texts[path] or "")), path == preferred))


def _filled(text: str) -> tuple[int, int]:
    """(ticked checklist items, words written under a `##` heading outside > quotes)."""
    ticked = words = 0
    under_heading = False
    for line in _without_comments(text).splitlines():
        item = ITEM.match(line)
        if item:
            ticked += item["tick"] != " "
        elif re.match(r"#{2,6}\s", line):  # a section, not the title (a checklist's has prose)
            under_heading = True
        elif under_heading and not line.lstrip().startswith(">"):
            words += _words(line)
    return ticked, words


def _score_lines(answer: str) -> list[str]:
    return [line[:MAX_SCORED_LINE] for line in answer.splitlines()]


def _words(text: str) -> int:
    return len(re.findall(r"\w+", text))


def _check_report_answer(spec, submission, scripts, example, _=str) -> tuple[str, str]:
    file, section = spec.options["file"], spec.options["section"]
    answer = report_section(submission / file, section)
    if answer is None:
        return "missing", _("{file} has no section {section}").format(file=file, section=section)
    n, needed = _words(answer), int(spec.options.get("min_words", 1))
    if n < needed:
        return "incomplete", _(
            "{file} {section}: {n} words so far; write at least {needed}"
        ).format(file=file, section=section, n=n, needed=needed)
    keywords = spec.options.get("keywords", [])
    if keywords and not any(k.lower() in answer.lower() for k in keywords):
        return "incomplete", _(
            "{file} {section}: mention the idea behind it, e.g. one of: {keywords}"
        ).format(file=file, section=section, keywords=", ".join(keywords[:5]))
    return "done", _(
        "{file} {section}: answered ({n} words); your instructor reads the content"
    ).format(file=file, section=section, n=n)


def _check_report_score(spec, submission, scripts, example, _=str) -> tuple[str, str]:
    file, section = spec.options["file"], spec.options["section"]
    answer = report_section(submission / file, section)
    if answer is None:
        return "missing", _("{file} has no section {section}").format(file=file, section=section)
    found = next(filter(None, map(SCORE_LINE.search, _score_lines(answer))), None)
    if not found:
        return "incomplete", _('{file} {section}: add a line like "{example}"').format(
            file=file, section=section, example=_(SCORE_EXAMPLE)
        )
    if example is None or example.student is None:
        return "failed", _(
            "your attention did not run on the example sentence, so the score cannot be checked"
        )
    tolerance = float(spec.options.get("tolerance", 0.01))
    off = _off_reference(example, tolerance)
    if off is not None:
        return "failed", _(
            "your attention weights on the example sentence are not right yet (largest "
            "difference from the reference {off:.2g}): fix the attention tests first, "
            "then explain a score of your heatmap"
        ).format(off=off)
    query, key = found["query"], found["key"]
    claimed = float(found["weight"].replace(",", "."))
    pairs = [
        (i, j) for i in _positions(example.tokens, query) for j in _positions(example.tokens, key)
    ]
    if not pairs:
        return "failed", _("{query} or {key} is not a token of the example: {tokens}").format(
            query=repr(query), key=repr(key), tokens=" ".join(example.tokens)
        )
    weights = [float(example.student[i, j]) for i, j in pairs]
    if not any(abs(w - claimed) <= tolerance for w in weights):
        actual = ", ".join(f"{w:.3f}" for w in weights)
        return "failed", _("your weights give {query} -> {key} = {actual}, not {claimed:g}").format(
            query=query, key=key, actual=actual, claimed=claimed
        )
    rest = _words("\n".join(SCORE_LINE.sub("", line) for line in _score_lines(answer)))
    needed = int(spec.options.get("min_words", 1))
    if rest < needed:
        return "incomplete", _(
            "{file} {section}: the score matches; now explain it ({needed}+ words)"
        ).format(file=file, section=section, needed=needed)
    return "done", _("{query} -> {key} = {claimed:g} matches your weights, and is explained").format(
        query=query, key=key, claimed=claimed
    )


_NUMBER = r"\s*[:=]\s*[\"'`]?(?P<number>[-+]?[0-9]*[.,]?[0-9]+)"


def _quoted_numbers(answer: str, numbers: list[dict]) -> dict[str, float]:
    """The numbers the answer quotes, by outcome name: a line "LABEL: N.NN", the label in
    English or in Portuguese (any case), a decimal point or comma; the first line wins."""
    found: dict[str, float] = {}
    for number in numbers:
        labels = [str(number["label"]), str(number.get("label_pt") or number["label"])]
        pattern = re.compile(
            r"(?:" + "|".join(r"\s+".join(map(re.escape, lb.split())) for lb in labels) + r")"
            + _NUMBER, re.IGNORECASE)
        match = next(filter(None, map(pattern.search, _score_lines(answer))), None)
        if match is not None:
            found[str(number["outcome"])] = float(match["number"].replace(",", "."))
    return found


def _check_report_numbers(spec, submission, tests, lang: str) -> tuple[str, str]:
    _ = gettext_for(lang)
    file, section = spec.options["file"], spec.options["section"]
    numbers = list(spec.options["numbers"])
    labelled = {str(n["outcome"]): str(n.get("label_pt") or n["label"]) if lang == "pt"
                else str(n["label"]) for n in numbers}
    answer = report_section(submission / file, section)
    if answer is None:
        return "missing", _("{file} has no section {section}").format(file=file, section=section)
    quoted = _quoted_numbers(answer, numbers)
    number = _("N.NN")  # a number's form: 0.96, or 0,96 in Portuguese
    lacking = [f"{labelled[o]}: {number}" for o in labelled if o not in quoted]
    if lacking:
        return "incomplete", _('{file} {section}: add the lines "{lines}"').format(
            file=file, section=section, lines='", "'.join(lacking))
    shown = ", ".join(f"{labelled[o]} {v:g}" for o, v in quoted.items())
    own = [t for t in tests if t.function == spec.options["function"]]
    test = next((t for t in own if t.outcome), own[0] if own else None)
    if test is None:
        return "incomplete", _(
            "{file} {section}: {numbers}: the grader checks them against its own run of your "
            "code (a hidden test), which did not run here"
        ).format(file=file, section=section, numbers=shown)
    measured = test.outcome
    if any(o not in measured for o in quoted):
        return "failed", _(
            "the test {test} measured nothing on your code, so your numbers cannot be checked"
        ).format(test=test.name)
    tolerance = float(spec.options.get("tolerance", 0.05))
    wrong = [o for o, v in quoted.items() if not abs(v - measured[o]) <= tolerance]
    if wrong:
        return "failed", _(
            "{file} {section}: {numbers}, but the grader's run of your code gives {actual} "
            "(within {tolerance:g}): quote your own run, made as the lab's README says"
        ).format(file=file, section=section, numbers=shown, tolerance=tolerance,
                 actual=", ".join(f"{labelled[o]} {measured[o]:.3f}" for o in wrong))
    return "done", _("{file} {section}: {numbers} match the grader's run of your code").format(
        file=file, section=section, numbers=shown)


def _off_reference(example: ExampleWeights, tolerance: float) -> float | None:
    """None if the student's example weights are the reference's within `tolerance`,
    else their largest difference (inf when they cannot be compared)."""
    student, reference = example.student, example.reference
    if student is None or reference is None or student.shape != reference.shape:
        return float("inf")
    difference = np.abs(np.asarray(student, dtype=float) - np.asarray(reference, dtype=float))
    if not np.isfinite(difference).all():
        return float("inf")
    largest = float(difference.max(initial=0.0))
    return None if largest <= tolerance else largest


def _positions(tokens: list[str], word: str) -> list[int]:
    exact = [i for i, t in enumerate(tokens) if t == word]
    return exact or [i for i, t in enumerate(tokens) if t.lower() == word.lower()]


_CHECKS: dict[str, Callable] = {
    "script-png": _check_script_png,
    "script-gradcheck": _check_script_gradcheck,
    "report-answer": _check_report_answer,
    "report-score": _check_report_score,
}

CHECK_TAG = re.compile(r"<!--\s*check:\s*(?P<id>[\w:.-]+)\s*-->")
READING_TAG = re.compile(r"<!--\s*reading:\s*(?P<id>[\w:.-]+)\s*-->")
ITEM = re.compile(r"^\s*[-*]\s+\[(?P<tick>[ xX])\]\s+(?P<text>.*)$")


def read_checklist(
    path: Path, tests: list[TestResult], deliverables: list[DeliverableResult]
) -> list[ChecklistItem]:
    """CHECKLIST.md items. `<!-- check: visualize -->` ties an item to a deliverable,
    `<!-- check: tests:softmax -->` to a function's tests; the rest is self-reported.
    `<!-- reading: ID -->` cites an entry of the reading list (`attn-grade reading`)."""
    content = _read_text(path)
    if content is None:
        return []
    done = {d.id: d.status == "done" for d in deliverables}
    items = []
    for line in content.splitlines():
        found = ITEM.match(line)
        if not found:
            continue
        tag = CHECK_TAG.search(found["text"])
        readings = READING_TAG.findall(found["text"])
        text = item_text(found["text"])
        ticked = found["tick"] != " "
        checked_by = tag["id"] if tag else None
        if checked_by is None:
            status = "self-reported" if ticked else "open"
        else:
            status = "verified" if _verified(checked_by, tests, done) else "not-verified"
        items.append(ChecklistItem(text, ticked, checked_by, status, readings))
    return items


def item_text(raw: str) -> str:
    """A checklist item's words, without its tags (HTML comments, cut in one pass: the
    regex <!--.*?--> took quadratic time over many unclosed "<!--")."""
    return _without_comments(raw).strip()


def _verified(check: str, tests: list[TestResult], done: dict[str, bool]) -> bool:
    if check.startswith("tests:"):
        own = [t for t in tests if t.function == check.split(":", 1)[1]]
        return bool(own) and all(t.status == "passed" for t in own)
    return done.get(check, False)
