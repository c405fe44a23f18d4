"""The HTML report: one self-contained page (or a notebook cell's output) of a LabResult.

What it shows is what the terminal report shows: the score, the tests with the feedback
of each test that did not pass (a hint or a message shared by several tests once, in
the terminal report's words: its Rich Text is converted, never re-worded), the
deliverables, the checklist, the heatmap PNG (yours, the reference's, the difference)
embedded as a data: URI, and what the code printed.

The page fetches nothing and runs no script: images are data: URIs, the style is inline,
and a Content-Security-Policy forbids scripts and any other source. Every string is
escaped with html.escape after report/plain.py's control-character handling, so text
from a submission (its output, exception text, student id) is shown, never parsed.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable

from rich.console import Console
from rich.text import Text

from attn_grade.report.plain import one_line, plain
from attn_grade.result import LabResult
from attn_grade.translation import N_, gettext_for

HTML_LANG = {"en": "en", "pt": "pt-BR"}  # <html lang>: the report's language, for screen readers
POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

STYLE = """
.attn-grade { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  line-height: 1.4; color: #1f2328; max-width: 72rem; }
.attn-grade h1 { font-size: 1.3rem; margin: 0 0 .3rem; }
.attn-grade h2 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
.attn-grade .submission, .attn-grade .dim { color: #59636e; }
.attn-grade .summary { white-space: pre-wrap; margin: .4rem 0 .6rem; }
.attn-grade .summary strong { font-size: 1.5rem; }
.attn-grade table { border-collapse: collapse; width: 100%; }
.attn-grade th, .attn-grade td { text-align: left; vertical-align: top; padding: .3rem .5rem;
  border-bottom: 1px solid #d1d9e0; overflow-wrap: break-word; }
.attn-grade th, .attn-grade td.points, .attn-grade td.mark { white-space: nowrap; }
.attn-grade td.points { text-align: right; }
.attn-grade .status { font-weight: 700; white-space: nowrap; border-radius: .3rem;
  padding: .05rem .35rem; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.attn-grade .good { color: #fff; background: #1a7f37; }
.attn-grade .bad { color: #fff; background: #cf222e; }
.attn-grade .late { color: #fff; background: #8250df; }
.attn-grade .warn { color: #1f2328; background: #f2cc60; }
.attn-grade .info { color: #1f2328; background: #b6e3ff; }
.attn-grade .plain { color: #59636e; background: #eff2f5; }
.attn-grade tr.feedback td { border-bottom: 1px solid #d1d9e0; padding-left: 1.5rem; }
.attn-grade .text { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0;
  font-family: inherit; }
.attn-grade .mistake { font-weight: 700; color: #9a6700; }
.attn-grade pre.output { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f8fa;
  padding: .6rem; border: 1px solid #d1d9e0; }
.attn-grade img { max-width: 100%; height: auto; }
@media (max-width: 40rem) {
  .attn-grade .description { display: none; }
  .attn-grade th, .attn-grade td { padding: .25rem .3rem; }
}
@media print {
  .attn-grade tr, .attn-grade img { break-inside: avoid; }
}
"""

STATUS_CLASS = {
    "passed": "good", "done": "good", "verified": "good",
    "failed": "bad", "error": "bad", "not-verified": "bad",
    "timeout": "late", "not-run": "late",
    "missing": "warn", "incomplete": "warn",
    "self-reported": "info", "open": "plain",
}


def text(value: object) -> str:
    """`value` as HTML text: control characters shown as escapes, then html.escape'd."""
    return html.escape(plain(value), quote=True)


def render_html(result: LabResult, heatmap: bytes | None = None) -> str:
    """The report as one self-contained HTML document. `heatmap` is the heatmap PNG to
    embed (see heatmap_png); without it, the page has no picture."""
    title = text(one_line(f"attn-grade {result.lab}: {result.submission}"))
    language = HTML_LANG.get(result.lang, "en")
    return (
        f"<!DOCTYPE html>\n<html lang=\"{language}\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{POLICY}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{title}</title>\n</head>\n<body>\n"
        f"{render_fragment(result, heatmap)}\n</body>\n</html>\n"
    )


def render_fragment(
    result: LabResult, heatmap: bytes | None = None, notes: list[str] | None = None
) -> str:
    """The report as an HTML fragment with its own scoped style: a notebook cell's output.
    `notes` go under the title (e.g. a function the notebook does not define yet)."""
    from attn_grade.report.terminal import _summary

    _ = gettext_for(result.lang)
    parts = [
        f"<style>{STYLE}</style>",
        '<div class="attn-grade">',
        f"<h1>attn-grade {text(result.lab)}: {text(result.title)}</h1>",
        f'<div class="submission">{text(result.submission)}</div>',
        *(f'<p class="text mistake note">{text(note)}</p>' for note in notes or []),
        f'<p class="summary">{rich_html(_summary(result))}</p>',
        _tests_table(result),
    ]
    if result.deliverables:
        parts.append(_deliverables_table(result))
    if result.checklist:
        parts.append(_checklist_table(result))
    parts.append(_heatmap(result, heatmap))
    if result.student_output.strip():
        more = "\n" + _("[... truncated]") if result.student_output_truncated else ""
        heading = text(_("your code printed"))
        parts.append(f"<h2>{heading}</h2>")
        parts.append(f'<pre class="output">{text(result.student_output.rstrip() + more)}</pre>')
    parts.append("</div>")
    return "\n".join(p for p in parts if p)


class HtmlReport:
    """A LabResult shown by IPython's rich display (`_repr_html_`; no JavaScript)."""

    def __init__(
        self, result: LabResult, heatmap: bytes | None = None, notes: list[str] | None = None
    ) -> None:
        self.result = result
        self.heatmap = heatmap
        self.notes = notes or []

    def _repr_html_(self) -> str:
        return render_fragment(self.result, self.heatmap, self.notes)

    def __repr__(self) -> str:
        r = self.result
        return f"<attn-grade {r.lab}: {r.score:g} / {r.max_score:g}>"


def heatmap_png(result: LabResult) -> bytes | None:
    """The heatmap PNG of `result.example` as bytes, or None without an example."""
    if result.example is None:
        return None
    from attn_grade.report.heatmap_png import draw_heatmaps

    image = io.BytesIO()
    _ = gettext_for(result.lang)
    title = _("{lab}: attention weights").format(lab=result.lab)
    draw_heatmaps(result.example, image, title, result.lang)
    return image.getvalue()


def rich_html(rich: Text) -> str:
    """A Rich Text (the terminal report's words) as escaped HTML: bold, dim and bold
    yellow (a likely mistake) become markup; every character of it is escaped."""
    out = []
    for segment in rich.render(Console(color_system=None)):
        piece = text(segment.text)
        style = segment.style
        if style is not None and style.bold and style.color is not None:
            piece = f'<span class="mistake">{piece}</span>'
        elif style is not None and style.bold:
            piece = f"<strong>{piece}</strong>"
        elif style is not None and style.dim:
            piece = f'<span class="dim">{piece}</span>'
        out.append(piece)
    return "".join(out)


def _words(_: Callable[[str], str], *messages: str) -> tuple[str, ...]:
    """`messages` (marked with N_) translated with `_`, as HTML text."""
    return tuple(text(_(message)) for message in messages)


def _status(status: str, label: str | None = None) -> str:
    css = STATUS_CLASS.get(status, "plain")
    return f'<span class="status {css}">{text(label or status)}</span>'


def _tests_table(result: LabResult) -> str:
    from attn_grade.report.terminal import STATUS_LABEL, _feedback

    _ = gettext_for(result.lang)
    heading, status, points, test, checks, hidden_mark = _words(
        _, N_("Tests"), N_("status"), N_("points"), N_("test"), N_("what it checks"),
        N_("(hidden)"),
    )
    rows = [
        f"<h2>{heading}</h2>",
        f'<table class="tests"><thead><tr><th>{status}</th><th>{points}</th><th>{test}</th>'
        f'<th class="description">{checks}</th></tr></thead><tbody>',
    ]
    hinted: dict[str, str] = {}
    said: dict = {}
    for t in result.tests:
        hidden = f' <span class="dim">{hidden_mark}</span>' if t.visibility == "hidden" else ""
        rows.append(
            f'<tr class="test" data-test="{text(t.name)}" data-status="{text(t.status)}">'
            f"<td>{_status(t.status, _(STATUS_LABEL.get(t.status, t.status)))}</td>"
            f'<td class="points">{t.points:g}/{t.max_points:g}</td>'
            f"<td>{text(t.name)}{hidden}</td>"
            f'<td class="description dim">{text(t.description)}</td></tr>'
        )
        if t.status != "passed":
            feedback = rich_html(_feedback(t, result.tests, hinted, said, _))
            rows.append(
                f'<tr class="feedback"><td colspan="4"><pre class="text">{feedback}</pre></td></tr>'
            )
    rows.append("</tbody></table>")
    return "\n".join(rows)


def _deliverables_table(result: LabResult) -> str:
    from attn_grade.report.terminal import STATUS_WORD

    _ = gettext_for(result.lang)
    heading, deliverable, points, status, feedback = _words(
        _, N_("Deliverables"), N_("deliverable"), N_("points"), N_("status"), N_("feedback")
    )
    rows = [
        f"<h2>{heading}</h2>",
        f"<table><thead><tr><th>{deliverable}</th><th>{points}</th>"
        f"<th>{status}</th><th>{feedback}</th></tr></thead><tbody>",
    ]
    for d in result.deliverables:
        rows.append(
            f"<tr><td>{text(d.title)}</td><td class=\"points\">{d.points:g}/{d.max_points:g}</td>"
            f"<td>{_status(d.status, _(STATUS_WORD.get(d.status, d.status)))}</td>"
            f"<td class=\"text\">{text(d.message)}</td></tr>"
        )
    rows.append("</tbody></table>")
    return "\n".join(rows)


def _checklist_table(result: LabResult) -> str:
    from attn_grade.report.terminal import STATUS_WORD

    _ = gettext_for(result.lang)
    item_header, status_header = _words(_, N_("item"), N_("status"))
    heading = text(_("Checklist ({file})").format(file=result.checklist_file))
    rows = [
        f"<h2>{heading}</h2>",
        f"<table><thead><tr><th></th><th>{item_header}</th><th>{status_header}</th>"
        "</tr></thead><tbody>",
    ]
    for item in result.checklist:
        status = _(STATUS_WORD.get(item.status, item.status))
        label = status + (f" ({item.checked_by})" if item.checked_by else "")
        reading = _("(reading: {ids})").format(ids=", ".join(item.readings))
        readings = f' <span class="dim">{text(reading)}</span>' if item.readings else ""
        rows.append(
            f"<tr><td class=\"mark\">{'[x]' if item.ticked else '[ ]'}</td>"
            f"<td>{text(item.text)}{readings}</td><td>{_status(item.status, label)}</td></tr>"
        )
    rows.append("</tbody></table>")
    return "\n".join(rows)


def _heatmap(result: LabResult, heatmap: bytes | None) -> str:
    example = result.example
    if example is None:
        return ""
    _ = gettext_for(result.lang)
    heading = text(_("Your attention weights on the example sentence"))
    parts = [f"<h2>{heading}</h2>"]
    if example.student is None:
        reason = example.message or _("your attention did not run on the example")
        no_heatmap = text(_("No heatmap: {reason}").format(reason=reason))
        parts.append(f'<p class="text">{no_heatmap}</p>')
    if heatmap:
        data = base64.b64encode(heatmap).decode("ascii")
        alt = _("Heatmaps: your attention weights, the reference's, and the difference")
        parts.append(
            f'<img class="heatmap" src="data:image/png;base64,{data}" alt="{text(alt)}">'
        )
    if example.not_shown:
        parts.append(f'<p class="text mistake">{text(example.not_shown)}</p>')
    return "\n".join(parts)
