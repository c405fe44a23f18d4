"""Headless Chromium for the HTML report: the browser tests' driver, and the script that
regenerates the README's screenshot of the report.

    python tests/html_screenshot.py      # writes grader/html-report.png

The screenshot is of a real check: lab01's reference with the unstable softmax (no max
subtracted), graded with a fixed seed. It needs Debian's `chromium` (/usr/bin/chromium).
It lives here, not in the kit: a student's install never needs a browser driver.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
README_PNG = KIT_ROOT / "grader" / "html-report.png"
# No network, no first-run, no background services: the page is a local file.
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--mute-audio",
)
UNSTABLE = ("    shifted = x - np.max(x, axis=axis, keepdims=True)", "    shifted = x")


def chromium(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run headless Chromium once, in a new empty profile."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        command = [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def dump_dom(page: Path) -> str:
    """The DOM of `page` after it loaded, serialized (what scripts, if any ran, made of it)."""
    done = chromium("--dump-dom", page.resolve().as_uri())
    if "<html" not in done.stdout:
        raise RuntimeError(f"chromium dumped no DOM: {done.stderr[-2000:]}")
    return done.stdout


def screenshot(page: Path, png: Path, width: int = 900, height: int = 1600) -> Path:
    """A PNG of the top `height` pixels of `page` in a `width`-pixel wide window."""
    done = chromium(f"--screenshot={png}", f"--window-size={width},{height}",
                    page.resolve().as_uri())
    if not png.exists():
        raise RuntimeError(f"chromium wrote no screenshot: {done.stderr[-2000:]}")
    return png


def unstable_submission(target: Path) -> Path:
    """lab01's reference as a student folder, with the unstable softmax."""
    shutil.copytree(KIT_ROOT / "solutions" / "lab01", target,
                    ignore=shutil.ignore_patterns("known_mistakes.py", "*.png", "__pycache__"))
    softmax = target / "softmax.py"
    text = softmax.read_text(encoding="utf-8")
    assert UNSTABLE[0] in text, "the reference softmax changed: update UNSTABLE"
    softmax.write_text(text.replace(*UNSTABLE), encoding="utf-8")
    return target


def main() -> None:
    from attn_grade.grading import grade
    from attn_grade.report.html import heatmap_png, render_html
    from PIL import Image

    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install chromium")
    with tempfile.TemporaryDirectory() as tmp:
        folder = unstable_submission(Path(tmp) / "lab01")
        result = grade("lab01", folder, seed=1)
        result.submission = "exercises/lab01"
        page = Path(tmp) / "report.html"
        page.write_text(render_html(result, heatmap_png(result)), encoding="utf-8")
        shot = screenshot(page, Path(tmp) / "shot.png", width=820, height=2900)
        image = Image.open(shot).convert("RGB").quantize(colors=64)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
    README_PNG.write_bytes(buffer.getvalue())
    print(f"wrote {os.path.relpath(README_PNG)} ({len(buffer.getvalue()) // 1024} KiB)")


def viridis_pixels(png: Path) -> int:
    """How many pixels of `png` have a viridis colour (the heatmaps' colour map), away
    from grey: a rendered heatmap has thousands; text, badges or a broken image none."""
    import numpy as np
    from matplotlib import colormaps
    from PIL import Image

    pixels = np.asarray(Image.open(png).convert("RGB"), dtype=np.int16).reshape(-1, 3)
    palette = (colormaps["viridis"](np.linspace(0, 1, 64))[:, :3] * 255).astype(np.int16)
    colourful = pixels[(pixels.max(axis=1) - pixels.min(axis=1)) > 60]
    distance = np.abs(colourful[:, None, :] - palette[None, :, :]).max(axis=2).min(axis=1)
    return int((distance <= 12).sum())


def strip_policy(page: str) -> str:
    """`page` without its Content-Security-Policy: escaping alone must keep scripts out."""
    stripped = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
    assert stripped != page
    return stripped


if __name__ == "__main__":
    main()
