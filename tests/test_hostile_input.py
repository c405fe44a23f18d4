"""Untrusted input that is not code: every string, file name and file a submission hands
in is data. Each test states the exact verdict: plain text on screen and in feedback.txt
(no ESC byte, markup printed as written), never a formula in gradebook.csv, unique ids,
`invalid` (with a message in the student's terms) for whatever cannot be read, never a
grader error; a deliverable earns its points only for the real thing; a submission that
is not one says so once (exit code 2); errors name the student's own file.

Hostile *code* lives in tests/hostile/ (test_hostile.py); this file covers the rest.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from attn_grade import batch, deliverables
from attn_grade import gradebook as gb
from attn_grade.cli import app
from attn_grade.errors import UsageError
from attn_grade.grading import grade
from attn_grade.labspec import DeliverableSpec, load_lab
from attn_grade.notebook import extract_code
from attn_grade.report.plain import csv_cell, one_line, plain
from attn_grade.report.terminal import print_report
from attn_grade.result import ExampleWeights
from attn_grade.runner import CallOutcome
from attn_grade.submission import NotASubmissionError, SubmissionError, open_submission
from attn_grade.wire import ProtocolError, decode_npy
from batch_fixtures import REFERENCE, notebook, single_file, student_folder, zipped
from conftest import KIT_ROOT
from rich.console import Console
from typer.testing import CliRunner

LAB = load_lab("lab01")
ESC = "\x1b"
FAKE_SCORE = "\x1b[2J\x1b[HScore: 31 / 31"  # clear the screen, draw a full score on top
ONLY = ["softmax_rows", "attention_single"]


def run_cli(*args: str, cwd: Path = KIT_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "attn_grade", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "160"},
        timeout=300,
    )


def broken(folder: Path, module: str, old: str, new: str) -> Path:
    path = folder / module
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {module}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


# -- class 4: escape sequences and markup --------------------------------------------------


def test_plain_makes_control_characters_visible_and_keeps_newline_and_tab():
    assert plain("a\tb\nc") == "a\tb\nc"
    assert plain(FAKE_SCORE) == "\\x1b[2J\\x1b[HScore: 31 / 31"
    assert plain("\r\x07\x9b\x7f\u202e\udcff") == "\\x0d\\x07\\x9b\\x7f\\u202e\\udcff"
    assert one_line("a\nb\tc") == "a\\x0ab\\x09c"
    for cell, shown in [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
                        ("\t=1", "\\x09=1"), ("\r=1", "\\x0d=1"), ("alice", "alice")]:
        assert csv_cell(cell) == shown


def test_escape_sequences_and_markup_from_a_submission_print_as_plain_text(tmp_path):
    """An exception text and output that would redraw the screen, Rich markup that used to
    crash the report ("[/bold]"), and mathtext that used to crash the PNG ("$\\frac{$")."""
    folder = student_folder(tmp_path / "lab01")
    hostile = f"{FAKE_SCORE} [/bold] [red]x[/red] $\\\\frac{{$"
    broken(folder, "attention.py", "    d_k = q.shape[-1]",
           f"    print({FAKE_SCORE!r} + ' [/] \\x9b31m')\n    raise ValueError({hostile!r})")
    (folder / "CHECKLIST.md").write_text(f"- [x] [/bold] done {ESC}[31m\n", encoding="utf-8")
    done = run_cli("check", "lab01", "--path", str(folder), "--no-hidden")
    assert done.returncode == 1, done.stderr  # a verdict, not a crash (3) or a traceback
    assert "Traceback" not in done.stderr
    assert ESC not in done.stdout and "\x9b" not in done.stdout
    assert "\\x1b[2J\\x1b[HScore: 31 / 31 [/bold] [red]x[/red]" in done.stdout.replace("\n", " ")
    assert "[/bold] done \\x1b[31m" in done.stdout
    assert (folder / "attn_grade_heatmap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_terminal_with_colours_gets_no_escape_sequence_from_the_student(tmp_path):
    folder = broken(student_folder(tmp_path / "lab01"), "softmax.py", "    x = np.asarray",
                    f"    raise ValueError({FAKE_SCORE!r} + '\\x1b]0;title\\x07[/]')\n"
                    "    x = np.asarray")
    result = grade("lab01", folder, hidden=False, only=ONLY)
    assert [t.status for t in result.tests] == ["error", "error"]
    buffer = io.StringIO()
    print_report(result, Console(file=buffer, width=120, force_terminal=True,
                                 color_system="truecolor"))
    shown = buffer.getvalue()
    student_part = shown.split("softmax_rows", 1)[1]
    # Rich's own colour codes (ESC [ ... m) remain; none of the student's sequences does
    assert "\x1b[2J" not in shown and "\x1b[H" not in shown and "\x1b]0;" not in shown
    assert "\\x1b[2J\\x1b[HScore: 31 / 31\\x1b]0;title\\x07[/]" in student_part


def test_gradescope_text_is_plain(tmp_path):
    from attn_grade.gradescope import gradescope_results

    folder = broken(student_folder(tmp_path / "lab01"), "softmax.py", "    x = np.asarray",
                    f"    raise ValueError({FAKE_SCORE!r})\n    x = np.asarray")
    result = grade("lab01", folder, hidden=False, only=ONLY)
    results = gradescope_results(result, "visible")
    text = json.dumps(results, ensure_ascii=False)
    assert ESC not in text and "\\\\x1b[2J" in text  # the escape, as text


# -- class 5: whatever the submission holds is the student's verdict -------------------------


def _npy(header: str, data: bytes = b"") -> bytes:
    raw = header.encode("latin1")
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(raw)) + raw + data


@pytest.mark.parametrize(
    "header",
    [
        "{'descr': '<i99999999999999999999999', 'fortran_order': False, 'shape': (1,)}",
        "{'descr': '[(\"a\", \"<f8\")]', 'fortran_order': False, 'shape': (1,)}",
        "{'descr': 'f8,f8', 'fortran_order': False, 'shape': (1,)}",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2**70,)}",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'extra': 1}",
        "{'descr': '<f8', 'fortran_order': 1, 'shape': (1,)}",
        "{[]: 1}",
        "(" * 3000,
    ],
)
def test_a_crafted_npy_header_is_a_protocol_error(header):
    with pytest.raises(ProtocolError):
        decode_npy(_npy(header, b"\0" * 8))


def test_random_damage_to_npy_frames_is_always_a_protocol_error():
    buffer = io.BytesIO()
    np.save(buffer, np.arange(12.0).reshape(3, 4))
    good, rng = buffer.getvalue(), random.Random(10)
    for _ in range(3000):
        data = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randrange(len(data))]
        try:
            decode_npy(bytes(data))
        except ProtocolError:
            pass


def _zip_of_reference(tmp_path: Path) -> bytes:
    target = zipped(student_folder(tmp_path / "lab01"), tmp_path / "lab01.zip")
    return target.read_bytes()


def test_a_zip_with_a_bad_crc_is_invalid_not_a_grader_error(tmp_path):
    data = bytearray(_zip_of_reference(tmp_path))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("lab01/softmax.py")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + 10] ^= 0xFF  # stored (not compressed): the bytes change, the CRC does not
    bad = tmp_path / "bad_crc.zip"
    bad.write_bytes(bytes(data))
    with pytest.raises(SubmissionError, match="bad_crc.zip is not a readable zip file: Bad CRC"):
        grade("lab01", bad, hidden=False, only=ONLY)


def test_damaged_zips_are_invalid_whatever_the_damage(tmp_path):
    good, rng = _zip_of_reference(tmp_path), random.Random(3)
    target = tmp_path / "damaged.zip"
    for n in range(40):
        data = bytearray(good)
        if n % 2:
            data = data[: rng.randrange(len(data))]
        else:
            for _ in range(8):
                data[rng.randrange(len(data))] = rng.randrange(256)
        target.write_bytes(bytes(data))
        try:
            with open_submission(target, LAB):
                pass
        except SubmissionError:
            pass  # invalid, with a message: the only other outcome allowed


def test_a_zip_bomb_is_invalid(tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("lab01/softmax.py", b"#" * (60 * 1024 * 1024))
    assert bomb.stat().st_size < 1024 * 1024
    with pytest.raises(SubmissionError, match="too large to be a lab submission"):
        grade("lab01", bomb, hidden=False, only=ONLY)


def _notebook_json(path: Path, content: object) -> Path:
    path.write_text(json.dumps(content), encoding="utf-8")
    return path


def _cell(source: object, metadata: object = None) -> dict:
    return {"cell_type": "code", "source": source, "metadata": metadata or {},
            "outputs": [], "execution_count": None}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"cells": 5}, 'is not a Jupyter notebook: it has no list of cells ("cells" is a number)'),
        ([1, 2], "is not a Jupyter notebook: it holds a list in JSON"),
        ({"metadata": {}}, 'it has no list of cells ("cells" is missing)'),
        ({"cells": [_cell(5)]}, "cell 1: its source is a number, not text"),
        ({"cells": [_cell(["a", None])]}, "cell 1: its source is a list, not text"),
        ({"nbformat": 3, "worksheets": 5}, "is an old (version 3) notebook that cannot be converted"),
        ({"cells": [_cell("x = 1")] * 5000}, "has 5000 code cells"),
        ({"cells": [_cell("def softmax(x, axis=-1, y=" + "-" * 3000 + "1):\n    return x\n")]},
         "Skipped cell 1 (its code is nested too deeply for Python to read)"),
        ({"cells": [_cell("def softmax(x, axis=-1):\x00\n    return x\n")]},
         "Skipped cell 1 (source code string cannot contain null bytes)"),
    ],
)
def test_a_notebook_that_is_not_one_says_what_is_wrong(tmp_path, content, message):
    path = _notebook_json(tmp_path / "lab01.ipynb", content)
    with pytest.raises(SubmissionError) as caught:
        extract_code(path, LAB)
    assert message in str(caught.value)


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe{}", b"[" * 100000, b""])
def test_bytes_that_are_not_a_notebook_are_invalid(tmp_path, raw):
    path = tmp_path / "lab01.ipynb"
    path.write_bytes(raw)
    with pytest.raises(SubmissionError, match="lab01.ipynb is not a readable notebook"):
        extract_code(path, LAB)


def test_malformed_optional_notebook_metadata_is_ignored(tmp_path):
    """metadata.nbgrader as a string, a grade_id that is a number, cells that are not
    objects: the functions are still found and graded."""
    path = notebook(tmp_path / "lab01.ipynb")
    content = json.loads(path.read_text(encoding="utf-8"))
    for n, cell in enumerate(content["cells"]):
        cell["metadata"] = {"nbgrader": "a string"} if n % 2 else {"nbgrader": {"grade_id": 5}}
    content["cells"] += [5, None, "cell"]
    _notebook_json(path, content)
    result = grade("lab01", path, hidden=False, only=ONLY)
    assert [t.status for t in result.tests] == ["passed", "passed"]


@pytest.mark.parametrize(
    ("source", "status", "message"),
    [
        (b'S = "caf\xe9"\n', "error", "SyntaxError"),  # not UTF-8, no coding line: as Python
        (b'# -*- coding: latin-1 -*-\nS = "caf\xe9"\n', "passed", ""),  # PEP 263 is honoured
        (b"import numpy as np\x00\n", "error", "null bytes"),
        (b"Y = " + b"-" * 3000 + b"1\n", "error", "RecursionError"),
    ],
)
def test_odd_bytes_in_a_single_py_file_are_the_students_error(tmp_path, source, status, message):
    path = single_file(tmp_path / "answer.py")
    path.write_bytes(source + path.read_bytes())
    result = grade("lab01", path, hidden=False, only=ONLY)
    assert [t.status for t in result.tests] == [status, status]
    assert message in result.tests[0].message


# -- class 6: gradebook and ids -------------------------------------------------------------


def test_dangerous_ids_are_never_formulas_nor_extra_rows():
    reports = [
        gb.error_report(LAB, student, "x", gb.INVALID, f"line one {ESC}[2J\nfake,31", 1)
        for student in ("=HYPERLINK(\"http://x\")", "+1", "-1", "@SUM(A1)", "ok")
    ]
    text = gb.render_gradebook(LAB, reports)
    assert ESC not in text
    lines = text.splitlines()
    assert len(lines) == 1 + len(reports)  # a line-based reader sees no fake row
    table = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["student"] for r in table) == sorted(
        ["'=HYPERLINK(\"http://x\")", "'+1", "'-1", "'@SUM(A1)", "ok"]
    )
    assert all(r["note"] == "line one \\x1b[2J" for r in table)


def test_ids_are_unique_and_plain_with_a_note_naming_the_entries(tmp_path):
    for name in ("x.zip", "x.zip.py", "alice.py", "alice.zip", "ev\nil.py", "ev\\x0ail.py",
                 "bob"):
        (tmp_path / name).write_text("")
    entries = {e.path.name: e for e in batch.discover(tmp_path)}
    ids = [e.student for e in entries.values()]
    assert len(set(ids)) == len(ids)
    assert entries["x.zip"].student == "x" and entries["x.zip.py"].student == "x.zip.py"
    assert "x.zip would have the same id 'x.zip'" in entries["x.zip.py"].note
    assert entries["alice.py"].student == "alice.py"
    assert "alice.zip would have the same id 'alice'" in entries["alice.py"].note
    # a newline shown as an escape: the same text as the file literally named ev\x0ail.py
    assert {entries["ev\nil.py"].student, entries["ev\\x0ail.py"].student} == {
        "ev\\x0ail.py", "ev\\x0ail.py~2"}
    assert "control characters" in entries["ev\nil.py"].note
    assert all("\n" not in i and ESC not in i for i in ids)
    assert entries["bob"].note == ""


def test_an_empty_submissions_folder_is_a_usage_error(tmp_path):
    (tmp_path / "subs").mkdir()
    with pytest.raises(UsageError, match="holds no submissions"):
        batch.discover(tmp_path / "subs")
    done = CliRunner().invoke(app, ["grade", "lab01", str(tmp_path / "subs"), "-o",
                                    str(tmp_path / "out"), "--solutions", str(REFERENCE)])
    assert done.exit_code == 2 and "holds no submissions" in done.output


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    """One batch of entries a hostile or careless class hands in, graded once."""
    root = tmp_path_factory.mktemp("hostile_class")
    subs = root / "subs"
    subs.mkdir()
    student_folder(subs / "=HYPERLINK(1)")
    single_file(subs / "$\\frac{a$ [bold].py")  # mathtext and markup in the PNG title
    single_file(subs / f"esc{ESC}[2J.py")
    single_file(subs / "nl\nfake,31,31,graded.py")
    single_file(subs / "x.zip.py")
    zipped(student_folder(root / "x", "missing_scale"), subs / "x.zip")
    broken(student_folder(subs / "raiser"), "softmax.py", "    x = np.asarray",
           f"    raise ValueError({FAKE_SCORE!r} + ' [/bold]')\n    x = np.asarray")
    (subs / "README.txt").write_text("instructions for the TA")
    (subs / "empty").mkdir()
    out = root / "out"
    done = subprocess.run(
        [sys.executable, "-m", "attn_grade", "grade", "lab01", str(subs), "--out", str(out),
         "--jobs", "2", "--seed", "5", "--solutions", str(REFERENCE)],
        capture_output=True, text=True, timeout=900,
    )
    return subs, out, done


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with (out / gb.CSV_NAME).open(newline="", encoding="utf-8") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def test_a_hostile_class_is_graded_with_plain_ids_and_no_grader_error(hostile_class):
    subs, out, done = hostile_class
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and ESC + "[2J" not in done.stdout + done.stderr
    table = _rows(out)
    assert {r["status"] for r in table.values()} == {"graded", "invalid"}
    assert table["'=HYPERLINK(1)"]["score"] == "31"  # quoted in the CSV, graded as usual
    assert table["$\\frac{a$ [bold]"]["status"] == "graded"
    assert (out / "students" / "$\\frac{a$ [bold]" / "attn_grade_heatmap.png").is_file()
    assert table["esc\\x1b[2J"]["status"] == "graded"
    assert table["nl\\x0afake,31,31,graded"]["status"] == "graded"
    assert table["x"]["status"] == "graded" and table["x.zip.py"]["status"] == "graded"
    assert (out / gb.CSV_NAME).read_text(encoding="utf-8").count("\n") == len(table) + 1
    assert "x.zip would have the same id" in done.stderr


def test_feedback_files_hold_no_escape_sequence(hostile_class):
    _, out, _ = hostile_class
    feedback = (out / "students" / "raiser" / gb.FEEDBACK_NAME).read_text(encoding="utf-8")
    assert ESC not in feedback
    assert "\\x1b[2J\\x1b[HScore: 31 / 31 [/bold]" in feedback
    for path in (out / "students").rglob(gb.FEEDBACK_NAME):
        assert ESC not in path.read_text(encoding="utf-8"), path


def test_entries_that_are_not_submissions_are_invalid_and_not_in_the_statistics(hostile_class):
    _, out, _ = hostile_class
    table = _rows(out)
    assert table["README"]["status"] == "invalid" and ".zip" in table["README"]["note"]
    assert table["empty"]["status"] == "invalid"
    assert "nothing to grade, it is empty" in table["empty"]["note"]
    summary = json.loads((out / gb.SUMMARY_NAME).read_text(encoding="utf-8"))
    graded = [r for r in table.values() if r["status"] == "graded"]
    percents = [100 * float(r["score"]) / float(r["max"]) for r in graded]
    assert summary["students"] == len(table)
    assert summary["mean_percent"] == round(sum(percents) / len(percents), 1)
    assert sum(summary["percent_bins"]) == len(graded)


def test_a_student_removed_since_the_last_run_is_not_counted(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    single_file(subs / "alice.py")
    single_file(subs / "bob.py", "missing_scale")
    out = tmp_path / "out"
    args = ["grade", "lab01", str(subs), "--out", str(out), "--solutions", str(REFERENCE),
            "--jobs", "2", "--no-png"]
    assert CliRunner().invoke(app, args).exit_code == 0
    (subs / "bob.py").unlink()
    done = CliRunner().invoke(app, [*args, "--resume"])
    assert done.exit_code == 0, done.output
    summary = json.loads((out / gb.SUMMARY_NAME).read_text(encoding="utf-8"))
    assert summary["students"] == 1 and summary["not_in_submissions"] == ["bob"]
    alice = _rows(out)["alice"]
    assert set(_rows(out)) == {"alice"} and sum(summary["percent_bins"]) == 1
    assert summary["mean_percent"] == round(100 * float(alice["score"]) / float(alice["max"]), 1)
    assert "no longer in the submissions folder (bob)" in " ".join(done.output.split())


# -- class 7: deliverables that can be faked -------------------------------------------------


def _png(width: int, height: int, pixels: np.ndarray | None = None) -> bytes:
    from PIL import Image

    if pixels is None:
        pixels = np.zeros((height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _huge_png_header() -> bytes:
    """A real PNG whose IHDR claims 100000 x 100000 pixels (CRC fixed up)."""
    data = bytearray(_png(100, 100, np.random.default_rng(0).integers(0, 255, (100, 100, 3),
                                                                      dtype=np.uint8)))
    data[16:24] = struct.pack(">II", 100000, 100000)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def _heatmap_png() -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(3, 3))
    FigureCanvasAgg(figure)
    figure.add_subplot().imshow(np.random.default_rng(1).random((6, 6)))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=60)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (b"\x89PNG\r\n\x1a\n", "failed", "is not a readable PNG image"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 5000, "failed", "is not a readable PNG image"),
        (_png(1, 1), "failed", "too small for a heatmap"),
        (_png(300, 200), "failed", "has only 1 colour(s)"),
        (_huge_png_header(), "failed", "too large for a heatmap"),
        (b"GIF89a", "failed", "is not a PNG image"),
        (_heatmap_png(), "done", "wrote attention_heatmap.png"),
    ],
    ids=["magic-only", "magic-and-zeros", "1x1", "flat", "huge-header", "gif", "heatmap"],
)
def test_the_visualize_points_need_a_plausible_heatmap(tmp_path, data, status, message):
    spec = next(d for d in LAB.deliverables if d.kind == "script-png")
    name = deliverables._produces(spec)[0]
    # what the script wrote, as the runner read it from the run's own folder
    run = deliverables.ScriptRun(spec, CallOutcome("ok"), time.time() - 0.5, "", {name: data})
    result = deliverables.check_deliverables((spec,), tmp_path, {spec.id: run}, None)[0]
    assert (result.status, message in result.message) == (status, True), result.message


class TestScoreExplanation:
    TOKENS = ["the", "cat", "sat"]
    REFERENCE = np.array([[0.5, 0.3, 0.2], [0.1, 0.8, 0.1], [0.2, 0.6, 0.2]])
    ANSWER = "## (b) x\nScore: sat -> cat = 0.60\nsat looks at cat because the verb needs it.\n"

    def check(self, tmp_path, student):
        (tmp_path / "REPORT.md").write_text(self.ANSWER)
        spec = DeliverableSpec("d", "report-score", "title", 2.0,
                               {"file": "REPORT.md", "section": "(b)", "min_words": 5,
                                "tolerance": 0.01})
        example = ExampleWeights(self.TOKENS, student, self.REFERENCE)
        return deliverables.check_deliverables((spec,), tmp_path, {}, example)[0]

    def test_weights_made_up_for_the_example_earn_nothing(self, tmp_path):
        """Constant weights that hold the claimed 0.60, but are not the reference's."""
        made_up = np.full((3, 3), 0.6)
        result = self.check(tmp_path, made_up)
        assert (result.status, result.points) == ("failed", 0.0)
        assert "not right yet" in result.message

    def test_the_reference_weights_and_a_matching_claim_earn_the_points(self, tmp_path):
        result = self.check(tmp_path, self.REFERENCE + 1e-4)
        assert (result.status, result.points) == ("done", 2.0)


def test_the_templates_give_no_real_answer(tmp_path):
    """The template's example line used to be the correct answer for the example sentence."""
    for path in (KIT_ROOT / "exercises" / "lab01" / "REPORT.md",
                 KIT_ROOT / "solutions" / "lab01" / "README.md"):
        assert deliverables.SCORE_LINE.search(path.read_text(encoding="utf-8")) is None, path
    (tmp_path / "REPORT.md").write_text("## (b) x\nno score line here\n")
    spec = next(d for d in LAB.deliverables if d.kind == "report-score")
    result = deliverables.check_deliverables((spec,), tmp_path, {}, None)[0]
    assert result.status == "incomplete" and not deliverables.SCORE_LINE.search(result.message)


# -- #11: submissions that are not submissions; errors name the student's file ---------------


@pytest.mark.parametrize("content", [None, "notes.txt", "sub/other.py"])
def test_a_folder_with_nothing_to_grade_is_one_message_and_exit_2(tmp_path, content):
    folder = tmp_path / "work"
    folder.mkdir()
    if content:
        (folder / content).parent.mkdir(exist_ok=True)
        (folder / content).write_text("x = 1\n")
    done = run_cli("check", "lab01", "--path", str(folder))
    assert done.returncode == 2
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1
    assert "nothing to grade" in done.stderr and "softmax.py" in done.stderr
    assert "No module named" not in done.stderr
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [] if content is None else [Path(content).parts[0]]
    )  # no PNG, no .attn-grade


def test_a_lab_folder_nested_inside_a_zip_is_found(tmp_path):
    outer = tmp_path / "outer"
    student_folder(outer / "lab01")
    (outer / "notes.txt").write_text("my notes")
    target = zipped(outer, tmp_path / "nested.zip")
    result = grade("lab01", target, hidden=False, only=ONLY)
    assert [t.status for t in result.tests] == ["passed", "passed"]


def test_two_lab_folders_in_one_zip_are_refused(tmp_path):
    outer = tmp_path / "outer"
    student_folder(outer / "lab01")
    student_folder(outer / "lab01_old")
    with pytest.raises(SubmissionError, match="holds 2 folders with the lab's files"):
        grade("lab01", zipped(outer, tmp_path / "two.zip"), hidden=False, only=ONLY)


def test_an_empty_zip_is_not_a_submission(tmp_path):
    empty = tmp_path / "empty.zip"
    zipfile.ZipFile(empty, "w").close()
    with pytest.raises(NotASubmissionError, match="nothing to grade"):
        grade("lab01", empty, hidden=False, only=ONLY)


def test_errors_in_a_single_file_name_that_file_and_its_lines(tmp_path):
    path = single_file(tmp_path / "answer.py")
    text = path.read_text(encoding="utf-8")
    syntax = tmp_path / "syntax" / "answer.py"
    syntax.parent.mkdir()
    syntax.write_text(text.replace("def softmax(x, axis=-1):", "def softmax(x, axis=-1)"))
    line = syntax.read_text().splitlines().index("def softmax(x, axis=-1)") + 1
    result = grade("lab01", syntax, hidden=False, only=ONLY)
    assert f"(answer.py, line {line})" in result.tests[0].message
    assert "softmax.py" not in result.tests[0].message + result.tests[0].where

    crash = tmp_path / "crash" / "answer.py"
    crash.parent.mkdir()
    crash.write_text(text.replace("    d_k = q.shape[-1]", "    raise ValueError('oops')"))
    line = crash.read_text().splitlines().index("    raise ValueError('oops')") + 1
    result = grade("lab01", crash, hidden=False, only=ONLY)
    assert result.tests[1].where == f"answer.py, line {line}, in scaled_dot_product_attention"
    assert result.tests[0].status == "passed"


def test_a_single_file_named_like_a_lab_module_still_grades(tmp_path):
    path = single_file(tmp_path / "softmax.py")
    result = grade("lab01", path, hidden=False, only=ONLY)
    assert [t.status for t in result.tests] == ["passed", "passed"]


def test_errors_in_a_notebook_name_the_cell_and_its_line(tmp_path):
    path = notebook(tmp_path / "lab01.ipynb")
    content = json.loads(path.read_text(encoding="utf-8"))
    for number, cell in enumerate(content["cells"], start=1):
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if "    d_k = q.shape[-1]" in source:
            source = source.replace("    d_k = q.shape[-1]", "    raise ValueError('oops')")
            cell["source"] = source
            line = source.splitlines().index("    raise ValueError('oops')") + 1
            where = f"cell {number}, line {line}, in scaled_dot_product_attention"
    _notebook_json(path, content)
    result = grade("lab01", path, hidden=False, only=ONLY)
    assert [t.status for t in result.tests] == ["passed", "error"]
    assert result.tests[1].where == where
    assert result.tests[1].message == f"ValueError: oops ({where})"


def test_a_forbidden_import_in_a_notebook_names_its_cell(tmp_path):
    path = notebook(tmp_path / "lab01.ipynb")
    content = json.loads(path.read_text(encoding="utf-8"))
    content["cells"][1]["source"] = "import numpy as np\nimport scipy.special"
    cell = content["cells"][2]  # softmax, which now uses scipy
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    assert source.startswith("def softmax(x, axis=-1):\n")
    cell["source"] = source.replace(":\n", ":\n    scipy.special\n", 1)
    _notebook_json(path, content)
    result = grade("lab01", path, hidden=False, only=ONLY)
    assert [t.status for t in result.tests] == ["failed", "failed"]
    assert result.tests[0].message.startswith("cell 2.py, line 2 imports scipy.special")


@pytest.mark.timeout(30)
def test_a_fifo_or_device_link_in_a_submission_does_not_block_the_batch(tmp_path):
    """fingerprint() runs in the batch's own process: it must never read a FIFO (blocks
    forever) or follow a link to /dev/zero (never ends)."""
    folder = student_folder(tmp_path / "alice")
    os.mkfifo(folder / "pipe.py")
    (folder / "zero.py").symlink_to("/dev/zero")
    first = batch.fingerprint(folder)
    assert first == batch.fingerprint(folder)
    (folder / "softmax.py").write_text("changed\n")
    assert batch.fingerprint(folder) != first


def test_a_notebook_test_cell_names_the_kernel_cell_and_its_line(monkeypatch):
    """nbgrader's test cells grade the kernel's cell history: an error names "In [n]"."""
    from attn_grade import notebook_cells
    from attn_grade.notebook import CodeCell, assemble
    from batch_fixtures import _functions

    softmax, attention = _functions("correct")
    attention = attention.replace("    d_k = q.shape[-1]", "    raise ValueError('oops')")
    line = attention.splitlines().index("    raise ValueError('oops')") + 1
    cells = [CodeCell("import numpy as np", "In [1]"), CodeCell(softmax, "In [2]"),
             CodeCell(attention, "In [3]")]
    monkeypatch.setattr(notebook_cells, "_student_code", lambda lab: assemble(cells, lab, "nb"))
    notebook_cells.check_test("lab01", "softmax_rows")  # passes: no AssertionError
    with pytest.raises(AssertionError) as caught:
        notebook_cells.check_test("lab01", "attention_single")
    assert f"(In [3], line {line}, in scaled_dot_product_attention)" in str(caught.value)


# -- what an outside review reproduced on the merged kit ---------------------------------


def test_a_deeply_nested_event_is_a_protocol_error_not_a_grader_error():
    from attn_grade.wire import FrameReader

    payload = b'{"event":"x","a":' + b"[" * 5000 + b"]" * 5000 + b"}"
    with pytest.raises(ProtocolError, match="not JSON"):
        FrameReader().feed(b"J" + struct.pack(">I", len(payload)) + payload)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_huge_weights_still_draw_a_heatmap(tmp_path):
    """Weights of 1e308 on the example sentence (right everywhere else) once made the
    difference panel's colour bar overflow: a grader error on demand. Verdict: a PNG,
    drawn without an overflow warning on the user's terminal."""
    from attn_grade.report.heatmap_png import draw_heatmaps

    reference = np.full((3, 3), 1 / 3)
    example = ExampleWeights(["a", "b", "c"], np.full((3, 3), 1e308), reference)
    target = draw_heatmaps(example, tmp_path / "h.png", "lab01")
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_over_long_entry_name_gets_a_short_unique_id(tmp_path):
    """A file name of 64 escape characters (256 bytes once escaped) once stopped the whole
    batch ("File name too long" for students/<id>). Verdict: a short id with a note."""
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / ("\x1b" * 64 + ".py")).write_text("x = 1\n")
    (subs / ("\x1b" * 63 + "\x07.py")).write_text("x = 1\n")
    (subs / "alice.py").write_text("x = 1\n")
    entries = batch.discover(subs)
    ids = [e.student for e in entries]
    assert len(set(ids)) == 3 and "alice" in ids
    for entry in entries:
        assert len(entry.student.encode()) <= batch.MAX_ID_BYTES + 11
        if entry.student != "alice":
            assert "too long" in entry.note


@pytest.mark.parametrize(
    "text",
    ["<!--" * 160_000, "# (b) Score\n" + "score:" * 40_000, "# (b)\n" + "Score: a -> " * 30_000],
    ids=["unclosed-comments", "score-prefixes", "arrows"],
)
@pytest.mark.timeout(120)  # a safety net, not a measurement: the old code took minutes
def test_a_report_that_makes_regexes_backtrack_is_read_in_linear_time(tmp_path, text):
    """REPORT.md once went through regexes that take quadratic time: 640 KB of "<!--" kept a
    batch worker for 16 minutes. Now a report is read up to 256 KiB, comments are cut in
    one pass and score lines are matched one (bounded) line at a time. Verdict: a status
    without minutes of backtracking."""
    (tmp_path / "REPORT.md").write_text(text)
    spec = DeliverableSpec("d", "report-score", "title", 2.0,
                           {"file": "REPORT.md", "section": "(b)", "min_words": 5})
    example = ExampleWeights(["a", "b"], np.eye(2), np.eye(2))
    result = deliverables.check_deliverables((spec,), tmp_path, {}, example)[0]
    assert result.status in ("missing", "incomplete", "failed")


@pytest.mark.parametrize(
    "line",
    ["- [x] " + "<!--" * 32_000, "- [x] done " + "<!-- reading:" * 20_000,
     "- [x] " + "<!-- check:" * 20_000],
    ids=["unclosed-comments", "unclosed-reading-tags", "unclosed-check-tags"],
)
@pytest.mark.timeout(120)  # a safety net, not a measurement: the old code took 20-90 s
def test_a_checklist_line_that_makes_regexes_backtrack_is_read_in_linear_time(tmp_path, line):
    """A checklist item's text once lost its tags through <!--.*?-->, and `progress` found
    its readings through a tag regex whose id could hold "<": both quadratic over many
    unclosed "<!--". Verdict: one ticked, self-reported item, its text what precedes the
    first unclosed comment, and no reading cited."""
    from attn_grade.reading import cited_ids

    (tmp_path / "CHECKLIST.md").write_text(line + "\n", encoding="utf-8")
    items = deliverables.read_checklist(tmp_path / "CHECKLIST.md", [], [])
    assert [(i.text, i.ticked, i.status, i.readings) for i in items] == [
        (line[6:].split("<!--")[0].strip(), True, "self-reported", [])]
    assert cited_ids(line) == []


def test_no_sandbox_or_batch_temp_path_reaches_a_student_or_the_gradebook(hostile_class):
    """An empty entry's note once read "/tmp/attn-grade-batch-19077-lycbgriv/empty: nothing
    to grade...": the private copy's path. Every note, report and feedback names the
    entry as handed in."""
    subs, out, _ = hostile_class
    note = _rows(out)["empty"]["note"]
    assert note.startswith(f"{subs / 'empty'}: nothing to grade, it is empty"), note
    for path in [out / gb.CSV_NAME, *(out / "students").rglob("*.json"),
                 *(out / "students").rglob(gb.FEEDBACK_NAME)]:
        text = path.read_text(encoding="utf-8")
        assert "attn-grade-batch-" not in text and "attn-grade-run-" not in text, path


def test_what_a_script_printed_names_the_students_own_folder(tmp_path):
    """visualize.py prints the path it wrote to (sys.argv[1], in the run's out/ folder):
    "your code printed" showed "wrote /tmp/attn-grade-run-.../out/attention_heatmap.png".
    The file comes back next to the code, and the output says so."""
    from conftest import copy_reference

    folder = copy_reference("lab01", tmp_path / "lab01")
    result = grade("lab01", folder, seed=1)
    assert f"wrote {folder}/attention_heatmap.png" in result.student_output, result.student_output
    assert "attn-grade-run-" not in result.student_output
    assert (folder / "attention_heatmap.png").is_file()


def test_a_module_padded_past_the_policy_limit_does_not_hide_an_import(tmp_path):
    """The import policy reads modules up to 2 MiB; a softmax.py padded past that with a
    comment used to be skipped, and its `import scipy` went unseen. Verdict: the tests of
    that module fail, naming the file as too large to check."""
    folder = student_folder(tmp_path / "s")
    source = (folder / "softmax.py").read_text(encoding="utf-8")
    padding = "#" * 100 + "\n"
    hidden = "def _never_called():\n    import scipy.special\n\n\n"  # seen, never run: no
    (folder / "softmax.py").write_text(  # scipy needed where the tests run
        hidden + source + padding * (2 * 1024 * 1024 // len(padding) + 1)
    )
    result = grade("lab01", folder, hidden=False, only=ONLY)
    assert [t.status for t in result.tests] == ["failed", "passed"]
    assert result.tests[0].message.startswith("softmax.py is larger than 2 MiB")
    assert result.tests[0].diagnosis == "forbidden-import"
