"""Units of the engine: comparison, wire validation, input generators, deliverables."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest

from attn_grade import deliverables
from attn_grade.compare import compare
from attn_grade.inputs import build_args
from attn_grade.result import ExampleWeights
from attn_grade.wire import FrameReader, ProtocolError, decode_npy


def npy(array) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=True)
    return buffer.getvalue()


class TestCompare:
    def test_float32_result_of_a_correct_computation_passes(self):
        x = np.random.default_rng(0).normal(size=(4, 7)) * 3
        expected = np.exp(x) / np.exp(x).sum(-1, keepdims=True)
        got = (np.exp(x.astype(np.float32)) / np.exp(x.astype(np.float32)).sum(-1, keepdims=True))
        assert compare("w", got, expected, "float", 1e-3, 1e-4).ok

    def test_an_empty_array_does_not_broadcast_into_a_match(self):
        result = compare("w", np.zeros((0, 4)), np.zeros((1, 4)), "float", 1e-3, 1e-4)
        assert not result.ok and "wrong shape" in result.message

    def test_swapped_axes_are_named(self):
        result = compare("w", np.zeros((2, 5, 3)), np.zeros((2, 3, 5)), "float", 1e-3, 1e-4)
        assert "last two axes are swapped" in result.message

    def test_nan_is_never_ignored(self):
        expected = np.ones((2, 3))
        got = expected.copy()
        got[1, 2] = np.nan
        result = compare("w", got, expected, "float", 1e-3, 1e-4)
        assert not result.ok and "NaN at [1, 2]" in result.message

    def test_mismatch_message_says_where_and_by_how_much(self):
        expected = np.linspace(0, 1, 12).reshape(3, 4)
        got = expected.copy()
        got[2, 1] += 0.5
        result = compare("weights", got, expected, "float", 1e-3, 1e-4)
        assert "first at [2, 1]" in result.message and "Max abs error 0.5" in result.message
        assert "expected[2, 0:4]" in result.message

    def test_boolean_outputs_must_be_boolean(self):
        result = compare("mask", np.where(np.eye(3) > 0, 0.0, -np.inf), np.eye(3) > 0, "bool", 0, 0)
        assert not result.ok and "boolean" in result.message and "0/-inf" in result.message


class TestWire:
    def test_a_plain_array_round_trips(self):
        array = np.arange(6.0).reshape(2, 3)
        np.testing.assert_array_equal(decode_npy(npy(array)), array)

    @pytest.mark.parametrize("value", [np.array([{"a": 1}], dtype=object), np.array(["x"])])
    def test_objects_and_strings_are_refused(self, value):
        with pytest.raises(ProtocolError):
            decode_npy(npy(value))

    def test_a_header_that_lies_about_its_size_is_refused(self):
        data = npy(np.zeros((100, 100)))
        with pytest.raises(ProtocolError):
            decode_npy(data[:-8])

    def test_an_absurd_shape_is_refused_before_reading(self):
        header = "{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000), }"
        header = header.ljust(118) + "\n"
        data = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()
        with pytest.raises(ProtocolError, match="too large"):
            decode_npy(data)

    def test_frames_are_bounded(self):
        with pytest.raises(ProtocolError):
            FrameReader().feed(b"J" + struct.pack(">I", 10**9))

    def test_frames_arrive_in_pieces(self):
        payload = b'{"event": "ready"}'
        data = b"J" + struct.pack(">I", len(payload)) + payload
        reader = FrameReader()
        assert reader.feed(data[:3]) == []
        (frame,) = reader.feed(data[3:])
        assert frame.event == {"event": "ready"}


class TestInputs:
    def test_draws_are_reproducible_and_depend_on_the_seed(self):
        gens = {"x": {"normal": [3, 4]}}
        a, b, c = build_args(gens, 1, "t"), build_args(gens, 1, "t"), build_args(gens, 2, "t")
        np.testing.assert_array_equal(a["x"], b["x"])
        assert not np.array_equal(a["x"], c["x"])

    def test_a_mixed_mask_and_its_complement(self):
        mask = build_args({"m": {"mask": [6, 5], "seed_key": "k"}}, 0, "a")["m"]
        complement = build_args({"m": {"mask": [6, 5], "seed_key": "k", "invert": True}}, 0, "b")["m"]
        np.testing.assert_array_equal(mask, ~complement)
        assert mask.any(axis=-1).all() and (~mask).any(axis=-1).all()

    def test_neg_inf_never_fills_a_row(self):
        x = build_args({"x": {"normal": [50, 4], "neg_inf_fraction": 0.9}}, 0, "t")["x"]
        assert np.isfinite(x).any(axis=-1).all() and np.isneginf(x).any()


class TestReportDeliverables:
    TOKENS = ["the", "cat", "sat"]
    WEIGHTS = np.array([[0.5, 0.3, 0.2], [0.1, 0.8, 0.1], [0.2, 0.6, 0.2]])

    def check(self, tmp_path, text, kind="report-score"):
        (tmp_path / "REPORT.md").write_text(text)
        spec = deliverables.DeliverableSpec(
            "d", kind, "title", 2.0,
            {"file": "REPORT.md", "section": "(b)", "min_words": 5, "tolerance": 0.01,
             "keywords": ["variance"]},
        )
        example = ExampleWeights(self.TOKENS, self.WEIGHTS, self.WEIGHTS)
        return deliverables.check_deliverables((spec,), tmp_path, {}, example)[0]

    def test_a_matching_score_with_an_explanation_is_done(self, tmp_path):
        result = self.check(tmp_path, "## (b) x\nScore: sat -> cat = 0.60\nsat looks at cat because the verb needs its subject.\n")
        assert result.status == "done" and result.points == 2.0

    def test_a_score_that_is_not_the_students_own_fails(self, tmp_path):
        result = self.check(tmp_path, "## (b) x\nScore: sat -> cat = 0.9\nsat looks at cat because the verb needs its subject.\n")
        assert result.status == "failed" and "0.600" in result.message

    def test_template_instructions_do_not_count(self, tmp_path):
        result = self.check(tmp_path, "## (b) x\n> Score: sat -> cat = 0.60 write here because ...\n<!-- Score: sat -> cat = 0.6 -->\n")
        assert result.status == "incomplete"

    def test_an_answer_needs_words_and_an_idea(self, tmp_path):
        short = self.check(tmp_path, "## (b)\nbecause.\n", kind="report-answer")
        assert short.status == "incomplete" and "words" in short.message
        idea = self.check(tmp_path, "## (b)\n" + "the scores get big " * 3 + "so the variance grows\n", kind="report-answer")
        assert idea.status == "done"


def test_a_test_without_expected_outputs_is_never_a_pass():
    """judge() compares output by output; with no expectation it must fail loudly, not pass."""
    from attn_grade.cases import test_case
    from attn_grade.errors import LabSpecError
    from attn_grade.expected import Expectation
    from attn_grade.grading import judge
    from attn_grade.labspec import load_lab
    from attn_grade.runner import CallOutcome

    lab = load_lab("lab01")
    case = test_case(lab, lab.tests[0], seed=1)
    outcome = CallOutcome("ok", outputs=[np.zeros((4, 7))])
    with pytest.raises(LabSpecError, match="expected outputs"):
        judge(lab, case, outcome, Expectation([], []))
