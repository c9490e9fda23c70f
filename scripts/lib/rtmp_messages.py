#!/usr/bin/env python3
"""List the RTMP messages in one direction of a recorded conversation.

A small reader, independent of tshark, used by scripts/record-fixtures to
describe each fixture and to check tshark's decode. It reads a raw TCP byte
stream (NAME.c2s.bin or NAME.s2c.bin), skips the handshake, reassembles chunks
and prints one tab-separated line per complete message:

    index  offset  end  csid  fmt  timestamp  type-id  length  stream-id  chunks  summary

`offset` is where the message's first chunk starts in the file, `end` is one
past its last byte, `fmt` is the header type of its first chunk. The chunk
size of a direction is the one announced by Set Chunk Size in that same
direction (a sender announces the size it writes with).

    rtmp_messages.py FILE.bin            one line per message
    rtmp_messages.py --counts FILE.bin   message count per type id

Exit status 1 on malformed input or a trailing partial chunk (reported).
"""

import struct
import sys
from dataclasses import dataclass

HANDSHAKE_LEN = 1 + 1536 + 1536  # C0+C1+C2 or S0+S1+S2

TYPE_NAMES = {
    1: "SetChunkSize",
    2: "Abort",
    3: "Acknowledgement",
    4: "UserControl",
    5: "WindowAckSize",
    6: "SetPeerBandwidth",
    8: "Audio",
    9: "Video",
    15: "DataAMF3",
    16: "SharedObjectAMF3",
    17: "CommandAMF3",
    18: "DataAMF0",
    19: "SharedObjectAMF0",
    20: "CommandAMF0",
    22: "Aggregate",
}

USER_CONTROL_EVENTS = {
    0: "StreamBegin",
    1: "StreamEOF",
    2: "StreamDry",
    3: "SetBufferLength",
    4: "StreamIsRecorded",
    6: "PingRequest",
    7: "PingResponse",
}


class Malformed(Exception):
    pass


@dataclass
class Message:
    csid: int
    fmt: int  # header type of the first chunk
    timestamp: int
    type_id: int
    length: int
    stream_id: int
    chunks: int
    body: bytes
    offset: int  # first byte of the first chunk
    end: int  # one past the last byte of the last chunk


@dataclass
class Trailing:
    offset: int
    length: int


class _Short(Exception):
    pass


def read_messages(data):
    """Returns ([Message], Trailing or None)."""
    if len(data) < HANDSHAKE_LEN:
        raise Malformed(f"only {len(data)} bytes, shorter than the handshake")
    out = []
    pos = HANDSHAKE_LEN
    chunk_size = 128
    streams = {}  # csid -> state of the last message on it
    while pos < len(data):
        start = pos

        def take(n):
            nonlocal pos
            if pos + n > len(data):
                raise _Short()
            piece = data[pos : pos + n]
            pos += n
            return piece

        try:
            b0 = take(1)[0]
            fmt, csid = b0 >> 6, b0 & 0x3F
            if csid == 0:
                csid = 64 + take(1)[0]
            elif csid == 1:
                lo, hi = take(2)
                csid = 64 + lo + 256 * hi
            st = streams.get(csid)
            if fmt != 0 and st is None:
                raise Malformed(f"offset {start}: header type {fmt} on chunk stream {csid} with no earlier header")
            continuing = fmt == 3 and st["body"] is not None
            if fmt == 0:
                h = take(11)
                ts_field, length, type_id = int.from_bytes(h[0:3], "big"), int.from_bytes(h[3:6], "big"), h[6]
                stream_id = struct.unpack("<I", h[7:11])[0]
            elif fmt == 1:
                h = take(7)
                ts_field, length, type_id = int.from_bytes(h[0:3], "big"), int.from_bytes(h[3:6], "big"), h[6]
                stream_id = st["stream_id"]
            elif fmt == 2:
                ts_field = int.from_bytes(take(3), "big")
                length, type_id, stream_id = st["length"], st["type_id"], st["stream_id"]
            else:
                ts_field = st["ts_field"]
                length, type_id, stream_id = st["length"], st["type_id"], st["stream_id"]
            ts = ts_field
            if ts_field == 0xFFFFFF:
                ts = struct.unpack(">I", take(4))[0]
            if continuing:
                st["body"] += take(min(chunk_size, st["length"] - len(st["body"])))
                st["chunks"] += 1
            else:
                if fmt == 0:
                    delta, abs_ts = None, ts
                elif fmt in (1, 2):
                    delta, abs_ts = ts, st["abs_ts"] + ts
                else:
                    delta = st["delta"]
                    abs_ts = st["abs_ts"] + (delta or 0)
                st = {
                    "ts_field": ts_field, "delta": delta, "abs_ts": abs_ts, "length": length,
                    "type_id": type_id, "stream_id": stream_id, "fmt": fmt, "chunks": 1, "offset": start,
                    "body": bytearray(take(min(chunk_size, length))),
                }
                streams[csid] = st
        except _Short:
            return out, Trailing(start, len(data) - start)
        if len(st["body"]) == st["length"]:
            body = bytes(st["body"])
            if st["type_id"] == 1 and len(body) >= 4:
                chunk_size = struct.unpack(">I", body[:4])[0] & 0x7FFFFFFF
                if chunk_size == 0:
                    raise Malformed(f"offset {st['offset']}: Set Chunk Size 0")
            out.append(Message(csid, st["fmt"], st["abs_ts"], st["type_id"], st["length"], st["stream_id"],
                               st["chunks"], body, st["offset"], pos))
            st["body"] = None
    return out, None


# --- AMF0, just enough to name commands --------------------------------------------------------


def amf0_values(body):
    """Decodes AMF0 values until the end or the first unknown marker."""
    values, pos = [], 0
    while pos < len(body):
        try:
            value, pos = _amf0_value(body, pos, 0)
        except (IndexError, struct.error, ValueError):
            break
        values.append(value)
    return values


def _amf0_string(body, pos, wide=False):
    n = struct.unpack(">I" if wide else ">H", body[pos : pos + (4 if wide else 2)])[0]
    pos += 4 if wide else 2
    if pos + n > len(body):
        raise ValueError("string past the end")
    return body[pos : pos + n].decode("utf-8", "replace"), pos + n


def _amf0_value(body, pos, depth):
    if depth > 32:
        raise ValueError("too deep")
    marker = body[pos]
    pos += 1
    if marker == 0x00:
        return struct.unpack(">d", body[pos : pos + 8])[0], pos + 8
    if marker == 0x01:
        return body[pos] != 0, pos + 1
    if marker == 0x02:
        return _amf0_string(body, pos)
    if marker in (0x03, 0x08):
        if marker == 0x08:
            pos += 4
        obj = {}
        while True:
            key, pos = _amf0_string(body, pos)
            if key == "" and body[pos] == 0x09:
                return obj, pos + 1
            obj[key], pos = _amf0_value(body, pos, depth + 1)
    if marker in (0x05, 0x06):
        return None, pos
    if marker == 0x0A:
        n = struct.unpack(">I", body[pos : pos + 4])[0]
        pos += 4
        items = []
        for _ in range(n):
            item, pos = _amf0_value(body, pos, depth + 1)
            items.append(item)
        return items, pos
    if marker == 0x0B:
        return struct.unpack(">d", body[pos : pos + 8])[0], pos + 10
    if marker == 0x0C:
        return _amf0_string(body, pos, wide=True)
    raise ValueError(f"marker {marker:#x}")


def _short(v):
    if isinstance(v, float):
        return str(int(v)) if v == int(v) else str(v)
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return "null" if v is None else "{...}"


def describe(m):
    """A one-line summary in the spirit of tshark's Info column."""
    b = m.body
    if m.type_id == 20:
        values = amf0_values(b)
        if not values:
            return "command (undecodable)"
        name = values[0]
        rest = values[2:]  # after the name and the transaction id
        if name == "connect" and rest and isinstance(rest[0], dict):
            return f"connect({_short(rest[0].get('app', ''))})"
        args = []
        for v in rest:
            if isinstance(v, dict):
                if "code" in v:
                    args.append(_short(v["code"]))
            elif v is not None:
                args.append(_short(v))
        return f"{name}({', '.join(args)})"
    if m.type_id == 18:
        values = amf0_values(b)
        strings = [v for v in values if isinstance(v, str)]
        if strings[:1] == ["@setDataFrame"] and len(strings) > 1:
            return f"@setDataFrame({_short(strings[1])})"
        return f"{strings[0]}()" if strings else "data (undecodable)"
    if m.type_id == 1 and len(b) >= 4:
        return f"Set Chunk Size {struct.unpack('>I', b[:4])[0]}"
    if m.type_id == 3 and len(b) >= 4:
        return f"Acknowledgement {struct.unpack('>I', b[:4])[0]}"
    if m.type_id == 5 and len(b) >= 4:
        return f"Window Acknowledgement Size {struct.unpack('>I', b[:4])[0]}"
    if m.type_id == 6 and len(b) >= 5:
        kinds = {0: "Hard", 1: "Soft", 2: "Dynamic"}
        return f"Set Peer Bandwidth {struct.unpack('>I', b[:4])[0]},{kinds.get(b[4], b[4])}"
    if m.type_id == 4 and len(b) >= 2:
        event = struct.unpack(">H", b[:2])[0]
        args = [str(struct.unpack(">I", b[i : i + 4])[0]) for i in range(2, len(b) - 3, 4)]
        if event == 3 and len(args) == 2:
            args[1] += "ms"
        return f"{USER_CONTROL_EVENTS.get(event, f'User Control {event}')} {','.join(args)}".strip()
    if m.type_id == 8:
        return "Audio Data"
    if m.type_id == 9:
        return "Video Data"
    return f"{TYPE_NAMES.get(m.type_id, 'Unknown')} (type {m.type_id})"


def main(argv):
    counts = "--counts" in argv
    paths = [a for a in argv[1:] if not a.startswith("--")]
    if len(paths) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    with open(paths[0], "rb") as f:
        data = f.read()
    try:
        msgs, trailing = read_messages(data)
    except Malformed as e:
        print(f"malformed: {e}", file=sys.stderr)
        return 1
    try:
        if counts:
            tally = {}
            for m in msgs:
                tally[m.type_id] = tally.get(m.type_id, 0) + 1
            for type_id in sorted(tally):
                print(f"{type_id}\t{TYPE_NAMES.get(type_id, '?')}\t{tally[type_id]}")
        else:
            for i, m in enumerate(msgs):
                print(f"{i}\t{m.offset}\t{m.end}\t{m.csid}\t{m.fmt}\t{m.timestamp}\t{m.type_id}\t{m.length}\t"
                      f"{m.stream_id}\t{m.chunks}\t{describe(m)}")
    except BrokenPipeError:
        return 0
    if trailing:
        print(f"{trailing.length} trailing bytes at offset {trailing.offset} do not complete a chunk",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
