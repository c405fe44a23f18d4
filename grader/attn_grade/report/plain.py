"""Strings that came from a submission, made safe to show: plain text and nothing else.

A student controls their code's output and exception text, file names (and so their
student id), REPORT.md and CHECKLIST.md. None of it may steer a renderer:

- a terminal or a text file: C0/C1 control characters (ESC sequences that redraw the
  screen, a carriage return that overwrites a line), bidirectional overrides and lone
  surrogates (an undecodable file name) are shown as escapes such as `\\x1b`;
  newline and tab stay, except in `one_line`;
- Rich: data is passed as `rich.text.Text` (`plain_text`), which is never parsed as
  markup, so "[/bold]" prints as it is;
- a spreadsheet: `csv_cell` puts a quote before a cell that would start a formula;
- matplotlib: text is drawn with `parse_math=False` (heatmap_png), so `$...$` is not
  mathtext.
"""

from __future__ import annotations

import re

from rich.text import Text

_SHOWN_AS_ESCAPES = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 but tab and newline, DEL, C1 (ESC, CSI, OSC...)
    "\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"  # bidi marks and overrides, line separators
    "\ud800-\udfff]"  # lone surrogates: bytes of a file name that are not UTF-8
)
_LINE_BREAKS = re.compile("[\n\t]")
FORMULA_STARTS = ("=", "+", "-", "@")  # tab and CR are escapes already


def _escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def plain(text: object) -> str:
    """`text` with every control character but newline and tab shown as an escape."""
    return _SHOWN_AS_ESCAPES.sub(_escape, str(text))


def one_line(text: object) -> str:
    """`plain(text)` on one line: newline and tab shown as escapes too (ids, table cells)."""
    return _LINE_BREAKS.sub(_escape, plain(text))


def plain_text(text: object, style: str = "") -> Text:
    """A Rich Text of `plain(text)`: printed as it is, never parsed as markup."""
    return Text(plain(text), style=style)


def csv_cell(text: object) -> str:
    """A text cell for a CSV file: one line, and never read as a spreadsheet formula."""
    cell = one_line(text)
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell
