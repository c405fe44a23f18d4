"""The reading list: data checks (offline), the generated README, and `attn-grade reading`."""

from __future__ import annotations

from pathlib import Path

import pytest
from attn_grade import reading as rl
from attn_grade.cli import app
from attn_grade.labspec import lab_ids, load_lab
from conftest import committed
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "reading_list" / "README.md"
REQUIRED_IDS = [
    "vaswani2017",
    "3b1b-attention",
    "alammar-illustrated-transformer",
    "weng-attention-2018",
    "weng-transformer-family-2023",
    "mlm-attention-from-scratch",
    "uva-dl-tutorial6",
    "raschka-self-attention",
    "raschka-llms-from-scratch-ch3",
    "tf-transformer-tutorial",
    "hands-on-llm-repo",
    "bertviz",
    "transformer-explainer",
    "attentionviz",
    "bengio2003",
]
WIDE = {"COLUMNS": "200"}
runner = CliRunner()


@pytest.fixture(scope="module")
def readings() -> rl.ReadingList:
    return rl.load_reading_list()


def test_the_readme_is_generated_from_the_data(readings):
    expected = rl.render_readme(readings, rl.by_lab(readings))
    assert README.read_text(encoding="utf-8") == expected, (
        "reading_list/README.md differs from grader/attn_grade/reading_list.toml: "
        "run `attn-grade reading --write-readme` and commit the result."
    )


def test_the_course_resources_are_all_there(readings):
    missing = [i for i in REQUIRED_IDS if readings.get(i) is None]
    assert not missing


def test_known_addresses(readings):
    """A few entries whose address the handouts rely on."""
    assert readings.get("vaswani2017").url == "https://arxiv.org/abs/1706.03762"
    assert readings.get("bengio2003").year == 2003
    assert readings.get("3b1b-attention-video").alternative_to == "3b1b-attention"


def test_every_url_is_well_formed_and_unique(readings):
    urls = [r.url for r in readings.readings]
    assert len(urls) == len(set(urls))
    assert {r.id: rl.url_problems(r.url) for r in readings.readings if rl.url_problems(r.url)} == {}


def test_portuguese_resources_are_marked(readings):
    portuguese = [r for r in readings.readings if r.language == "pt"]
    assert len(portuguese) >= 2
    assert any(r.labs.get("lab01") == "before" for r in portuguese)
    assert rl.LANGUAGES["pt"] == "Portuguese"


@pytest.mark.parametrize("lab", lab_ids())
def test_every_lab_has_readings_to_do_before_it(readings, lab):
    stages = dict(readings.for_lab(lab))
    assert stages, f"{lab} has no readings"
    assert stages.get("before"), f"{lab} has nothing to read before it starts"


def test_the_reading_list_names_only_labs_of_the_kit(readings):
    assert readings.labs <= set(lab_ids())


def _cited_texts() -> dict[str, str]:
    """The handouts as committed (exercises/ in the working tree is the student's work)."""
    texts = {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8")
             for p in ROOT.glob("solutions/*/*.md")}
    for lab in lab_ids():
        for name in ("CHECKLIST.md", "README.md"):
            texts[f"exercises/{lab}/{name}"] = committed(f"exercises/{lab}/{name}")
    return texts


def test_every_cited_reading_exists(readings):
    cited = {(path, i) for path, text in _cited_texts().items() for i in rl.cited_ids(text)}
    assert cited, "no handout cites a reading: the citation format may have changed"
    unknown = sorted((path, i) for path, i in cited if readings.get(i) is None)
    assert not unknown, f"cited reading ids that are not in the reading list: {unknown}"


def test_citation_format():
    text = "- [x] Read it <!-- reading: vaswani2017 --> <!--reading:bertviz-->"
    assert rl.cited_ids(text) == ["vaswani2017", "bertviz"]


def _entry(**changes) -> dict:
    entry = {
        "id": "x",
        "title": "T",
        "author": "A",
        "url": "https://example.org/x",
        "kind": "paper",
        "language": "en",
        "minutes": 10,
        "level": "beginner",
        "labs": {"lab01": "before"},
        "why": "because",
    }
    return entry | changes


def test_a_valid_entry_parses():
    parsed = rl.parse_reading_list({"reading": [_entry()]})
    assert parsed.get("x").labs == {"lab01": "before"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"url": "http://example.org/x"}, "https://"),
        ({"url": "https://localhost/x"}, "no host"),
        ({"url": "https://example.org/a b"}, "space"),
        ({"kind": "podcast"}, "kind must be one of"),
        ({"language": "pt-BR"}, "language must be one of"),
        ({"minutes": 0}, "minutes must be a positive"),
        ({"labs": {"lab1": "before"}}, "not a lab id"),
        ({"labs": {"lab01": "someday"}}, "labs.lab01 must be one of"),
        ({"why": ""}, "why must be a non-empty string"),
        ({"Title": "typo"}, "unknown key 'Title'"),
        ({"alternative_to": "nothing"}, "unknown id 'nothing'"),
    ],
)
def test_bad_entries_are_named(changes, message):
    with pytest.raises(rl.ReadingListError, match=message):
        rl.parse_reading_list({"reading": [_entry(**changes)]})


def test_duplicates_and_missing_fields_are_all_reported_at_once():
    bad = {"reading": [_entry(), _entry(), {"id": "y"}]}
    with pytest.raises(rl.ReadingListError) as caught:
        rl.parse_reading_list(bad)
    message = str(caught.value)
    assert "duplicate id 'x'" in message
    assert "duplicate url" in message
    assert "entry 3 (y): missing 'title'" in message


def test_labs_are_studied_after_their_prerequisites():
    specs = [load_lab(lab) for lab in reversed(lab_ids())]
    order = [s.id for s in rl.study_order(specs)]
    for spec in specs:
        for needed in spec.prerequisites:
            assert order.index(needed) < order.index(spec.id)


def test_an_alternative_is_counted_once(readings):
    lesson, video = readings.get("3b1b-attention"), readings.get("3b1b-attention-video")
    assert rl.total_minutes([lesson, video]) == lesson.minutes


# ------------------------------------------------------------------ the command
def test_reading_one_lab():
    result = runner.invoke(app, ["reading", "lab01"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "lab01: Softmax and scaled dot-product attention" in result.output
    assert "Before you start" in result.output
    assert "https://arxiv.org/abs/1706.03762" in result.output
    assert "lab02" not in result.output.split("Before you start")[0]


def test_reading_all_labs_in_the_order_to_study():
    result = runner.invoke(app, ["reading"], env=WIDE)
    assert result.exit_code == 0, result.output
    positions = [result.output.index(f"{lab}: ") for lab in lab_ids()]
    assert positions == sorted(positions)


def test_reading_filtered_by_kind():
    result = runner.invoke(app, ["reading", "--kind", "video"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "youtube.com" in result.output
    assert "arxiv.org" not in result.output
    assert "(video only)" in result.output


def test_reading_filtered_by_language():
    result = runner.invoke(app, ["reading", "lab01", "--language", "pt"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "em português" in result.output
    assert "jalammar.github.io" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["reading", "lab99"], "Unknown lab 'lab99'"),
        (["reading", "--kind", "podcast"], "Unknown kind 'podcast'"),
        (["reading", "--language", "fr"], "Unknown language 'fr'"),
    ],
)
def test_reading_usage_errors(args, message):
    result = runner.invoke(app, args, env=WIDE)
    assert result.exit_code == 2
    assert message in result.output


def test_write_readme(tmp_path, monkeypatch):
    target = tmp_path / "README.md"
    monkeypatch.setattr(rl, "readme_path", lambda: target)
    result = runner.invoke(app, ["reading", "--write-readme"])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8") == README.read_text(encoding="utf-8")
