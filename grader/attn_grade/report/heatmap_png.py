"""The heatmap PNG: the student's attention weights, the reference's, and their difference.

Uses matplotlib's object-oriented API with the Agg canvas (no pyplot state), and
is imported only when a PNG is drawn: matplotlib costs most of a check's start-up.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from attn_grade.report.plain import one_line, plain
from attn_grade.result import ExampleWeights
from attn_grade.translation import gettext_for

PNG_NAME = "attn_grade_heatmap.png"


def as_heads(weights: np.ndarray) -> np.ndarray:
    """(..., L, S) weights as (H, L, S): leading axes of size 1 dropped, the rest flattened.

    Shapes:
        weights: (L, S), (H, L, S) or (B, H, L, S)
        returns: (H, L, S), H = 1 for a single head
    """
    length, keys = weights.shape[-2:]
    return weights.reshape(-1, length, keys)  # (H, L, S)


def draw_heatmaps(example: ExampleWeights, path: Path, title: str, lang: str = "en") -> Path:
    """Draw the student's weights, the reference's and their difference to `path`; the
    panels' titles and axis labels are in `lang` (`title` comes translated)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    _ = gettext_for(lang)
    panels = [(_("your weights"), example.student), (_("reference"), example.reference)]
    heads = (
        max(as_heads(w).shape[0] for _label, w in panels if w is not None)
        if any(w is not None for _label, w in panels)
        else 1
    )
    columns = 3
    size = 0.42 * len(example.tokens) + 1.6
    # no layout engine: constrained layout would double the drawing time
    caption = 0.45 if example.not_shown else 0.0  # inches below the tick labels
    height = heads * 0.8 * size + 0.6 + caption
    figure = Figure(figsize=(columns * size, height))
    figure.subplots_adjust(left=0.08, right=0.97, bottom=(1.0 + caption) / height, top=1 - 0.5 / height,
                           wspace=0.45, hspace=0.45)
    FigureCanvasAgg(figure)
    axes = np.atleast_2d(figure.subplots(heads, columns, squeeze=False))
    difference = None
    if example.student is not None and example.reference is not None:
        difference = as_heads(example.student) - as_heads(example.reference)
    for head in range(heads):
        for column, (label, weights) in enumerate(panels):
            ax = axes[head, column]
            if weights is None:
                _empty(ax, example.message or _("not available"))
                continue
            # shown saturated outside [0, 1]; clipped first, so that weights of 1e308
            # do not overflow the colour map's arithmetic (NaN stays NaN)
            shown = np.clip(as_heads(weights)[head], -1.0, 2.0)
            image = ax.imshow(shown, cmap="viridis", vmin=0.0, vmax=1.0)
            head_label = ", " + _("head {head}").format(head=head) if heads > 1 else ""
            _label(ax, example.tokens, label + head_label, _)
            figure.colorbar(image, ax=ax, shrink=0.8)
        ax = axes[head, 2]
        if difference is None:
            _empty(ax, _("no difference to show"))
            continue
        largest = float(np.nanmax(np.abs(difference), initial=0.0))
        # differences below 0.05 stay pale (nothing to see); a student's weights of 1e308
        # are shown saturated: the colour bar's limits must stay finite apart
        limit = min(max(largest, 0.05), 1e6) if np.isfinite(largest) else 1e6
        shown = np.clip(difference[head], -2 * limit, 2 * limit)  # saturated, as above
        image = ax.imshow(shown, cmap="RdBu_r", vmin=-limit, vmax=limit)
        _label(
            ax,
            example.tokens,
            _("yours - reference (largest |difference| {largest:.2g})").format(largest=largest),
            _,
        )
        figure.colorbar(image, ax=ax, shrink=0.8)
    figure.suptitle(one_line(title), parse_math=False)  # a student id is text, not mathtext
    if example.not_shown:  # a right picture must not read as "everything is right"
        figure.text(0.5, 0.005, textwrap.fill(example.not_shown, 40 * columns), ha="center",
                    va="bottom", fontsize=9, color="darkred", parse_math=False)
    figure.savefig(path, dpi=80, pil_kwargs={"compress_level": 1})
    return path


def _label(ax, tokens: list[str], title: str, _=str) -> None:
    ax.set_title(title, fontsize=10, parse_math=False)
    ax.set_xticks(range(len(tokens)), tokens, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(tokens)), tokens, fontsize=8)
    ax.set_xlabel(_("key (attended to)"))
    ax.set_ylabel(_("query (attending)"))


def _empty(ax, message: str) -> None:
    # The message may be the student's exception text: plain, never mathtext. Wrapped
    # here: matplotlib's wrap=True measures the text as mathtext even with parse_math=False.
    text = "\n".join(textwrap.wrap(plain(message), 40, max_lines=8)) or "-"
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=9, parse_math=False)
    ax.set_axis_off()
