"""The Redis replies the bus reads, narrowed to the shape our client gets.

redis-py types its replies for every protocol version and decoding mode at once (bytes or
str, RESP2 lists or RESP3 maps). The bus's client speaks RESP2 and never decodes, so values
arrive as bytes and XREAD answers `[[stream, [(id, fields), ...]]]`. These helpers say so
once, for the type checker and the reader, instead of at every call site.
"""

from __future__ import annotations

from redis.typing import StreamRangeResponse, XReadResponse

Fields = dict[bytes | str, bytes | str]
"""A stream entry's fields and values, keyed by field name (bytes with our client)."""


def text(value: bytes | str) -> str:
    """A reply value as text (our client receives bytes; they are UTF-8)."""
    return value.decode() if isinstance(value, bytes) else value


def raw(value: bytes | str) -> bytes:
    """A reply value as the bytes it was written as."""
    return value if isinstance(value, bytes) else value.encode()


def entries(reply: StreamRangeResponse | None) -> list[tuple[str, Fields]]:
    """The (id, fields) of each entry of an XRANGE / XREVRANGE reply. Redis answers an
    entry as nil only when it was deleted under a pending claim; there is none here."""
    return [
        (text(entry_id), fields)
        for entry_id, fields in reply or ()
        if entry_id is not None and fields is not None
    ]


def read_entries(reply: XReadResponse | None) -> list[tuple[str, Fields]]:
    """The entries of the one stream an XREAD asked for; none when it timed out."""
    if not reply:
        return []
    if not isinstance(reply, list):
        raise TypeError("XREAD answered as a RESP3 map; the event bus speaks RESP2")
    stream_entries: StreamRangeResponse = reply[0][1]
    return entries(stream_entries)
