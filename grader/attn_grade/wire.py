"""Parent side of the child's result pipe: frames in, validated plain arrays out.

Everything the child sends is untrusted. A frame is read only up to a size
limit; an array is accepted only as raw .npy bytes whose header states a plain
numeric or boolean dtype, a sane shape and exactly the bytes that follow, and
it is loaded without pickle and checked to be a base ndarray.
"""

from __future__ import annotations

import ast
import io
import json
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_EVENT_BYTES = 64 * 1024
MAX_ARRAY_BYTES = 64 * 1024 * 1024
# all the arrays the grader keeps from one run (every call, every process of it): legit
# results are a few MiB; a forward returning 64 MiB on each of lab05's ~270 probe calls
# took the grader to 2 GB at 20 calls
MAX_RUN_BYTES = 192 * 1024 * 1024
MAX_NDIM = 8
ALLOWED_DTYPES = {
    np.dtype(t).str
    for t in (
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
    )
}
_HEADER = struct.Struct(">cI")


class ProtocolError(Exception):
    """The child sent something that is not a well-formed frame or array."""


class ResultLimit(ProtocolError):
    """An array frame larger than what is left of the run's MAX_RUN_BYTES (found from the
    frame's declared length, before its payload is read)."""


@dataclass
class Frame:
    kind: str  # "event" or "array"
    event: dict[str, Any] | None = None
    array: np.ndarray | None = None


class FrameReader:
    """Accumulates bytes from the pipe and yields complete, validated frames."""

    def __init__(self, room: int = MAX_RUN_BYTES) -> None:
        self._buffer = bytearray()
        self.room = room  # bytes of array frames still accepted (the run's, see runner.py)
        self.array_limit = MAX_ARRAY_BYTES  # the call under way's, set by the runner

    def feed(self, data: bytes) -> list[Frame]:
        """The complete frames in `data` and what came before; ProtocolError if one is bad."""
        return list(self.frames(data))

    def frames(self, data: bytes) -> Iterator[Frame]:
        """Yield each complete frame in order; a bad frame raises only after the good ones
        before it were handled (so a failure is blamed on the call that was under way)."""
        self._buffer += data
        while len(self._buffer) >= _HEADER.size:
            kind, length = _HEADER.unpack_from(self._buffer)
            limit = MAX_EVENT_BYTES if kind == b"J" else MAX_ARRAY_BYTES
            if kind not in (b"J", b"A") or length > limit:
                raise ProtocolError(f"frame {kind!r} of {length} bytes is not allowed")
            if kind == b"A" and length > self.array_limit:  # before the payload is read
                raise ProtocolError(
                    f"an array of {length} bytes, where this call returns at most "
                    f"{self.array_limit} bytes")
            if kind == b"A" and length > self.room:
                raise ResultLimit(f"an array of {length} bytes, with {self.room} bytes left")
            end = _HEADER.size + length
            if len(self._buffer) < end:
                break
            payload = bytes(self._buffer[_HEADER.size : end])
            del self._buffer[:end]
            if kind == b"J":
                yield _event(payload)
                continue
            self.room -= length
            yield Frame("array", array=decode_npy(payload))


def _event(payload: bytes) -> Frame:
    try:
        event = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # deep nesting too
        raise ProtocolError("an event that is not JSON") from exc
    if not isinstance(event, dict) or not isinstance(event.get("event"), str):
        raise ProtocolError("an event without a name")
    return Frame("event", event=event)


def decode_npy(payload: bytes) -> np.ndarray:
    """Validate the .npy header before touching the data, then load without pickle."""
    stream = io.BytesIO(payload)
    try:
        major, _minor = np.lib.format.read_magic(stream)
    except ValueError as exc:
        raise ProtocolError("not .npy data") from exc
    if major not in (1, 2, 3):
        raise ProtocolError(f".npy version {major} is not supported")
    header = _read_header_dict(stream, major)
    descr, shape, fortran = header.get("descr"), header.get("shape"), header.get("fortran_order")
    if set(header) != {"descr", "shape", "fortran_order"}:
        raise ProtocolError("a .npy header with other keys than descr, shape, fortran_order")
    if not isinstance(descr, str) or _dtype_str(descr) not in ALLOWED_DTYPES:
        raise ProtocolError(f"dtype {descr[:40]!r} is not a plain number or boolean type")
    if (
        not isinstance(shape, tuple)
        or len(shape) > MAX_NDIM
        or not all(type(n) is int and 0 <= n for n in shape)
        or not isinstance(fortran, bool)
    ):
        raise ProtocolError(f"shape {str(shape)[:80]} is not a sane array shape")
    dtype = np.dtype(descr)
    count = math.prod(shape)  # exact: np.prod in int64 wraps (2**32, 2**32) around to 0
    if count * dtype.itemsize > MAX_ARRAY_BYTES:
        raise ProtocolError(f"an array of shape {shape} is too large")
    if len(payload) - stream.tell() != count * dtype.itemsize:
        raise ProtocolError("the array's data does not match its header")
    stream.seek(0)
    try:
        array = np.load(stream, allow_pickle=False)
    except (ValueError, TypeError, OSError, EOFError) as exc:  # numpy's own checks of the header
        raise ProtocolError("unreadable .npy data") from exc
    if type(array) is not np.ndarray or array.dtype.str not in ALLOWED_DTYPES:
        raise ProtocolError("not a plain ndarray")
    return array


def _dtype_str(descr: str) -> str | None:
    """numpy's canonical name of `descr`, or None when numpy cannot read it (any error:
    the text is the child's)."""
    if len(descr) > 16:
        return None  # every allowed dtype's name is 3 characters
    try:
        return np.dtype(descr).str
    except Exception:  # noqa: BLE001 - TypeError, ValueError, SyntaxError, ... all mean "no"
        return None


def _read_header_dict(stream: io.BytesIO, major: int) -> dict[str, Any]:
    size_format = "<H" if major == 1 else "<I"
    raw = stream.read(struct.calcsize(size_format))
    if len(raw) != struct.calcsize(size_format):
        raise ProtocolError("truncated .npy header")
    (length,) = struct.unpack(size_format, raw)
    if length > 4096:
        raise ProtocolError(".npy header too long")
    text = stream.read(length)
    try:
        header = ast.literal_eval(text.decode("latin1"))
    except Exception as exc:  # noqa: BLE001 - any failure to parse the child's text is its own
        raise ProtocolError("unreadable .npy header") from exc
    if not isinstance(header, dict):
        raise ProtocolError("unreadable .npy header")
    return header
