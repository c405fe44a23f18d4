"""The HTML report: `check --html`, `grade`'s feedback.html, escaping, and a real browser.

The browser tests load the report in headless Chromium (Debian's `chromium`; skipped
with a reason where /usr/bin/chromium is missing) and read the DOM it built: the score,
each test's status, the heatmap decoded, and no student string run as markup or script,
with the page's Content-Security-Policy and without it (escaping alone must hold).
"""

from __future__ import annotations

import html
import json
import os
import re
import stat
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from attn_grade.cli import app
from attn_grade.report.html import render_fragment, render_html
from attn_grade.result import ChecklistItem, DeliverableResult, ExampleWeights, LabResult
from attn_grade.result import TestResult as Outcome
from html_screenshot import (
    CHROMIUM,
    dump_dom,
    screenshot,
    strip_policy,
    unstable_submission,
    viridis_pixels,
)
from typer.testing import CliRunner

PAYLOAD = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
TITLE_PAYLOAD = "<img src=x onerror=document.title=1>"  # no slash: a folder name, a student id
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
)


class Elements(HTMLParser):
    """The tags of a page and their attributes, as a browser's DOM dump holds them."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.title = ""
        self._in_title = False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for t, attrs in self.tags if t == tag]

    def with_handlers(self) -> list[str]:
        return [t for t, attrs in self.tags if any(a.startswith("on") for a in attrs)]


def crafted_result() -> LabResult:
    """A result whose every student-controlled string is a payload."""
    tests = [
        Outcome("softmax_rows", "softmax", "public", "passed", 2, 2, description="rows"),
        Outcome("attention_single", "scaled_dot_product_attention", "public", "error", 0, 2,
                   message=f"ValueError: {PAYLOAD}\x1b[2J", inputs="q (5, 4)"),
        Outcome("attention_batched", "scaled_dot_product_attention", "hidden", "error", 0, 2,
                   message=f"ValueError: {PAYLOAD}\x1b[2J", inputs="q (2, 5, 6)"),
    ]
    return LabResult(
        lab="lab01", title="Softmax", submission=f"submissions/{TITLE_PAYLOAD}",
        tests=tests,
        deliverables=[DeliverableResult("report", "REPORT.md", "incomplete", 1, 2, PAYLOAD)],
        checklist=[ChecklistItem(PAYLOAD, True, None, "self-reported", ["vaswani2017"])],
        example=ExampleWeights(["a", "b"], None, np.eye(2), message=PAYLOAD),
        hidden_tests_ran=True, seed=3, student_output=PAYLOAD + "\r\u202e",
    )


def test_every_student_string_is_escaped():
    page = render_html(crafted_result())
    assert "<script" not in page.lower() and "<img src=x" not in page
    assert "onerror=" not in page.replace("onerror=&quot;", "").replace("onerror=document", "")
    assert page.count(html.escape(PAYLOAD)) >= 5  # shown as text: message, deliverable, ...
    assert "\x1b" not in page and "\\x1b[2J" in page and "\\u202e" in page
    assert "(the same message as under attention_single)" in page  # the terminal's wording
    assert Elements(page).title == f"attn-grade lab01: submissions/{TITLE_PAYLOAD}"


def test_the_page_fetches_nothing_and_runs_nothing():
    page = render_html(crafted_result(), heatmap=b"\x89PNG fake")
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy and "default-src 'none'" in policy.group(1)
    sources = [a.get("src") or a.get("href") for _, a in Elements(page).tags
               if a.get("src") or a.get("href")]
    assert sources and all(s.startswith("data:") for s in sources)
    assert '<meta name="viewport"' in page and "@media print" in page
    assert "<style>" in render_fragment(crafted_result())  # a notebook cell: its own style


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    """`attn-grade check --json --html` on two submissions: the unstable softmax, and a
    hostile one whose printed output and exception text are markup."""
    root = tmp_path_factory.mktemp("html")
    unstable = unstable_submission(root / "unstable" / "lab01")
    hostile = unstable_submission(root / TITLE_PAYLOAD / "lab01")
    attention = hostile / "attention.py"
    code = attention.read_text(encoding="utf-8")
    code = code.replace("    d_k = q.shape[-1]", f"    print({PAYLOAD!r})\n    raise ValueError({PAYLOAD!r})", 1)
    attention.write_text(code, encoding="utf-8")
    out = {}
    for name, folder in (("unstable", unstable), ("hostile", hostile)):
        page = root / f"{name}.html"
        done = CliRunner().invoke(app, ["check", "lab01", "--path", str(folder), "--json",
                                        "--html", str(page), "--seed", "5"])
        assert done.exit_code == 1, done.output
        out[name] = (page, json.loads(done.output))
    return out


def test_check_writes_the_html_report(reports):
    page, result = reports["unstable"]
    text = page.read_text(encoding="utf-8")
    assert stat.S_IMODE(page.stat().st_mode) == 0o644
    for t in result["tests"]:
        assert f'data-test="{t["name"]}" data-status="{t["status"]}"' in text
    assert f"Score: {result['score']:g} / {result['max_score']:g}" in text
    assert "Likely mistake: unstable-softmax" in text
    assert text.count('src="data:image/png;base64,') == 1


def test_check_html_replaces_a_link_and_never_writes_through_it(tmp_path, reference_copy):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "report.html"
    link.symlink_to(victim)
    done = CliRunner().invoke(app, ["check", "lab01", "--path", str(reference_copy("lab01")),
                                    "--no-png", "--no-hidden", "--html", str(link)])
    assert done.exit_code == 0, done.output
    assert victim.read_text() == "keep me"
    assert not link.is_symlink() and "data-status=\"passed\"" in link.read_text()


def test_check_html_into_a_missing_folder_is_one_line(tmp_path, reference_copy):
    done = subprocess.run(
        [sys.executable, "-m", "attn_grade", "check", "lab01", "--path",
         str(reference_copy("lab01")), "--no-hidden", "--html", str(tmp_path / "no" / "r.html")],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip() == f"attn-grade: --html: {tmp_path / 'no'} is not a folder"
    done = CliRunner().invoke(app, ["check", "lab01", "--html", str(tmp_path)])
    assert done.exit_code == 2 and "is a folder; give a file name" in done.output


def test_grade_writes_feedback_html_beside_feedback_txt(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    unstable_submission(subs / "alice")
    unstable_submission(subs / TITLE_PAYLOAD)
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "attn_grade", "grade", "lab01", str(subs), "--out", str(out),
         "--jobs", "2", "--seed", "7"],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for student in ("alice", TITLE_PAYLOAD):
        folder = out / "students" / student
        page = folder / "feedback.html"
        assert (folder / "feedback.txt").is_file() and page.is_file()
        assert stat.S_IMODE(page.stat().st_mode) == 0o600
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        text = page.read_text(encoding="utf-8")
        assert 'data-test="softmax_large_logits" data-status="failed"' in text
        assert 'src="data:image/png;base64,' in text
    hostile = (out / "students" / TITLE_PAYLOAD / "feedback.html").read_text(encoding="utf-8")
    assert TITLE_PAYLOAD not in hostile and html.escape(TITLE_PAYLOAD) in hostile


# -- in a real browser -------------------------------------------------------------------


@needs_chromium
def test_browser_shows_the_score_and_each_status(reports):
    page, result = reports["unstable"]
    dom = Elements(dump_dom(page))
    rows = {a["data-test"]: a["data-status"] for a in dom.named("tr") if "data-test" in a}
    assert rows == {t["name"]: t["status"] for t in result["tests"]}
    assert "failed" in rows.values() and "passed" in rows.values()
    assert f"Score: {result['score']:g} / {result['max_score']:g}" in dump_dom(page)


@needs_chromium
@pytest.mark.parametrize("policy", ["with the page's policy", "without it"])
def test_browser_runs_no_student_markup(reports, tmp_path, policy):
    page, result = reports["hostile"]
    if policy == "without it":
        bare = tmp_path / "bare.html"
        bare.write_text(strip_policy(page.read_text(encoding="utf-8")), encoding="utf-8")
        page = bare
    dom = dump_dom(page)
    elements = Elements(dom)
    assert elements.title == f"attn-grade lab01: {result['submission']}"  # the payload: text
    assert elements.named("script") == [] and elements.with_handlers() == []
    assert [a["src"][:22] for a in elements.named("img")] == ["data:image/png;base64,"]
    assert html.escape(PAYLOAD, quote=False) in dom  # shown as text, in the DOM
    assert any(t["status"] == "error" and "ValueError" in t["message"] for t in result["tests"])


@needs_chromium
def test_browser_would_run_the_payload_unescaped(tmp_path):
    """The control: the same payload, not escaped, does change the title in this browser."""
    page = tmp_path / "raw.html"
    page.write_text(f"<!DOCTYPE html><html><head><title>t</title></head><body>{PAYLOAD}</body></html>")
    assert Elements(dump_dom(page)).title == "pwned"


def _decoded_sizes(page: Path, tmp_path: Path) -> str:
    """The natural sizes of `page`'s images as a browser decoded them, read by a script
    in a page of our own (the report itself allows no script)."""
    images = re.findall(r'<img [^>]*src="(data:image/png;base64,[^"]+)"', page.read_text())
    probe = tmp_path / "probe.html"
    probe.write_text(
        "<!DOCTYPE html><html><head><title>waiting</title></head><body>"
        + "".join(f'<img src="{src}">' for src in images)
        + "<script>window.addEventListener('load', () => { document.title = "
        "[...document.images].map(i => i.naturalWidth + 'x' + i.naturalHeight).join(','); });"
        "</script></body></html>"
    )
    return Elements(dump_dom(probe)).title


@needs_chromium
def test_browser_decodes_the_heatmap(reports, tmp_path):
    page, _ = reports["unstable"]
    sizes = _decoded_sizes(page, tmp_path)
    width, height = (int(n) for n in sizes.split("x"))
    assert width > 300 and height > 100, sizes
    broken = tmp_path / "broken.html"  # the probe tells a broken image from a good one
    broken.write_text(page.read_text().replace("base64,iVBOR", "base64,AAAA", 1))
    assert _decoded_sizes(broken, tmp_path) == "0x0"


@needs_chromium
def test_screenshot_shows_the_rendered_heatmap(reports, tmp_path):
    """Fails when the page does not render: an empty body, or a heatmap that does not
    decode, leaves no viridis pixels in the screenshot (both checked as controls)."""
    page, _ = reports["unstable"]
    shot = screenshot(page, tmp_path / "shot.png", width=900, height=3200)
    assert viridis_pixels(shot) > 5000
    broken = tmp_path / "broken.html"
    broken.write_text(page.read_text().replace("base64,iVBOR", "base64,AAAA", 1))
    assert viridis_pixels(screenshot(broken, tmp_path / "broken.png", 900, 3200)) < 500
    empty = tmp_path / "empty.html"
    empty.write_text(re.sub(r"<body>.*</body>", "<body></body>", page.read_text(), flags=re.S))
    assert viridis_pixels(screenshot(empty, tmp_path / "empty.png", 900, 3200)) < 500


def test_readme_screenshot_is_small_and_committed():
    png = Path(__file__).resolve().parents[1] / "grader" / "html-report.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert os.path.getsize(png) < 200 * 1024
