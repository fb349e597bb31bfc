"""Frames between the Node service and this worker: a 4-byte big-endian length, then that many bytes of
UTF-8 JSON. The worker answers every request with exactly one frame, in order; while it evaluates, it may
send requests of its own (cache reads and writes) and read their answers before going on."""

import json
import struct

HEADER = struct.Struct(">I")
# A frame larger than this is a broken peer, not a batch: refuse it rather than allocate it.
MAX_FRAME_BYTES = 512 * 1024 * 1024


class ProtocolError(Exception):
    pass


class Channel:
    def __init__(self, reader, writer):
        self._reader = reader
        self._writer = writer

    def receive(self):
        """The next message, or None when Node closed the pipe."""
        header = self._read_exactly(HEADER.size)
        if header is None:
            return None
        (length,) = HEADER.unpack(header)
        if length > MAX_FRAME_BYTES:
            raise ProtocolError(f"a frame of {length} bytes is larger than {MAX_FRAME_BYTES}")
        body = self._read_exactly(length)
        if body is None:
            raise ProtocolError("the pipe closed inside a frame")
        return json.loads(body)

    def send(self, message):
        body = json.dumps(message, separators=(",", ":"), default=_json_fallback).encode("utf-8")
        self._writer.write(HEADER.pack(len(body)))
        self._writer.write(body)
        self._writer.flush()

    def _read_exactly(self, count):
        chunks = []
        remaining = count
        while remaining > 0:
            chunk = self._reader.read(remaining)
            if not chunk:
                if remaining == count:
                    return None
                raise ProtocolError("the pipe closed inside a frame")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)


def _json_fallback(value):
    """What rules return is not always JSON: immutable event views, sets, dates. Turn them into JSON as
    Panther's own encoder does, and anything else into its text."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        return isoformat()
    return str(value)
