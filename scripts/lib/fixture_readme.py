#!/usr/bin/env python3
"""Write tests/fixtures/README.md from what scripts/record-fixtures left behind.

    fixture_readme.py WORK_DIR FIXTURES_DIR > README.md

WORK_DIR holds fixtures.list (name, server port), NAME.commands, NAME.state,
sources.commands and sources.state. For each fixture the conversation is told
from tshark's decode (NAME.tshark.tsv) and its message counts are checked
against an independent reading of the byte files (rtmp_messages.py).
"""

import csv
import os
import platform
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ inside the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rtmp_messages  # noqa: E402

TYPE_NAMES = rtmp_messages.TYPE_NAMES


def first_line(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except OSError:
        return "not installed"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else "?"


def dpkg_version(pkg):
    return first_line(["dpkg-query", "-W", "-f=${Version}", pkg])


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read().strip()
    except FileNotFoundError:
        return default


def tsv_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def split(value):
    return value.split(";") if value else []


def frames_by_direction(rows, port):
    """[(frame, start, end, [type ids])] per direction, from the .tsv (offsets into the .bin files)."""
    out = {"c2s": [], "s2c": []}
    for row in rows:
        direction = "s2c" if row["tcp.srcport"] == str(port) else "c2s"
        start = int(row["tcp.seq"]) - 1
        types = [int(t, 16) for t in split(row["rtmpt.header.typeid"])]
        out[direction].append((int(row["frame.number"]), start, start + int(row["tcp.len"]), types, row))
    return out


def frame_of(frames, offset):
    """The first frame whose payload holds byte `offset` (a retransmission comes later)."""
    for f in frames:
        if f[1] <= offset < f[2]:
            return f
    return None


def analyse(rows, port, fixtures, name):
    """Messages of both directions, each with its frame and whether tshark decoded it."""
    frames = frames_by_direction(rows, port)
    result = {}
    for d in ("c2s", "s2c"):
        with open(os.path.join(fixtures, f"{name}.{d}.bin"), "rb") as f:
            msgs, trailing = rtmp_messages.read_messages(f.read())
        remaining = {f[0]: list(f[3]) for f in frames[d]}
        items = []
        for m in msgs:
            f = frame_of(frames[d], m.end - 1)
            frame = f[0] if f else 0
            decoded = frame in remaining and m.type_id in remaining[frame]
            if decoded:
                remaining[frame].remove(m.type_id)
            items.append((frame, m, decoded))
        extra = [(fr, t) for fr, ts in remaining.items() for t in ts]
        hs = [f for f in frames[d] if f[4]["_ws.col.Info"].startswith("Handshake")]
        result[d] = {"items": items, "trailing": trailing, "extra": extra, "handshake": hs}
    return result


def conversation(result):
    """Lines in frame order; media and acknowledgements collapsed into runs."""
    events = []
    for d in ("c2s", "s2c"):
        for f in result[d]["handshake"]:
            events.append((f[0], 0, d, f[4]["_ws.col.Info"], True))
        for frame, m, decoded in result[d]["items"]:
            events.append((frame, m.offset, d, m, decoded))
    events.sort(key=lambda e: (e[0], e[2] == "s2c", e[1]))
    lines = []
    run = None  # [direction, first frame, video, audio, acks]

    def flush():
        nonlocal run
        if run:
            parts = []
            if run[2]:
                parts.append(f"{run[2]} video")
            if run[3]:
                parts.append(f"{run[3]} audio")
            if run[4]:
                parts.append(f"{run[4]} Acknowledgement")
            lines.append(f"#{run[1]:<5} {arrow(run[0])}  ... {', '.join(parts)} ...")
        run = None

    for frame, _, d, m, decoded in events:
        if isinstance(m, str):
            flush()
            lines.append(f"#{frame:<5} {arrow(d)}  {m}")
            continue
        if m.type_id in (3, 8, 9):
            if run is None or run[0] != d:
                flush()
                run = [d, frame, 0, 0, 0]
            run[{9: 2, 8: 3, 3: 4}[m.type_id]] += 1
            continue
        flush()
        note = "" if decoded else "   <- not in tshark's decode"
        lines.append(f"#{frame:<5} {arrow(d)}  {rtmp_messages.describe(m)}{note}")
    flush()
    return lines


def arrow(d):
    return "c->s" if d == "c2s" else "s->c"


def count_table(result):
    out = ["| direction | type | messages in the bytes | decoded by tshark |", "|---|---|---:|---:|"]
    for d in ("c2s", "s2c"):
        tally = {}
        for _, m, decoded in result[d]["items"]:
            t = tally.setdefault(m.type_id, [0, 0])
            t[0] += 1
            t[1] += decoded
        for fr, t in result[d]["extra"]:
            tally.setdefault(t, [0, 0])
        for t in sorted(tally):
            extra = sum(1 for _, x in result[d]["extra"] if x == t)
            mine, dec = tally[t]
            cell = f"{dec}" + (f" (+{extra} wrong)" if extra else "")
            flag = "" if dec == mine and not extra else " **differs**"
            out.append(f"| {d} | {t} {TYPE_NAMES.get(t, '?')} | {mine} | {cell}{flag} |")
    return out


def missed(result):
    """(direction, header type of the first chunk, type id) -> count of messages tshark missed."""
    out = {}
    for d in ("c2s", "s2c"):
        for _, m, decoded in result[d]["items"]:
            if not decoded:
                key = (d, m.fmt, m.type_id)
                out[key] = out.get(key, 0) + 1
    return out


def main(argv):
    work, fixtures = argv[1], argv[2]
    entries = [line.split("\t") for line in read(os.path.join(work, "fixtures.list")).splitlines()]
    w = []
    w.append("# Golden RTMP conversations")
    w.append("")
    w.append("Real RTMP sessions between common clients and nginx's RTMP module, recorded on loopback by")
    w.append("`scripts/record-fixtures` (run by hand as root; not part of CI). The protocol core's replay")
    w.append("tests feed these bytes through the sessions; `dissect` reads the captures. Do not edit by hand:")
    w.append("re-run the script (it rewrites every file here, README included).")
    w.append("")
    w.append("Each fixture is **one TCP connection**:")
    w.append("")
    w.append("| file | content |")
    w.append("|---|---|")
    w.append("| `NAME.pcapng` | the connection as captured on `lo` (Ethernet link type), SYN to FIN/RST |")
    w.append("| `NAME.c2s.bin` | every TCP payload byte the client sent, in order (starts with C0+C1) |")
    w.append("| `NAME.s2c.bin` | every TCP payload byte the server sent, in order (starts with S0+S1+S2) |")
    w.append("| `NAME.tshark.tsv` | tshark's decode, one row per frame with payload; columns below |")
    w.append("")
    w.append("The `.tsv` oracle: `tshark -r NAME.pcapng -o rtmpt.max_packet_size:131072 -d tcp.port==PORT,rtmpt")
    w.append("-Y 'tcp.len > 0' -T fields -E header=y -E occurrence=a -E aggregator=';' -e ...` (the columns are")
    w.append("its header line). A frame that completes several RTMP messages lists one value per message,")
    w.append("joined by `;` (the `amf.*` columns list every AMF string/number of the frame). `tcp.seq` is")
    w.append("relative: the frame's payload starts at byte")
    w.append("`tcp.seq - 1` of the `.bin` file of its direction. `rtmpt.header.timestamp` is the")
    w.append("absolute timestamp tshark computes, also for type-1/2/3 headers.")
    w.append("")
    w.append("**tshark is an oracle where it is right, and it is not always right.** Each fixture's count table")
    w.append("compares tshark with an independent reading of the `.bin` files (`scripts/lib/rtmp_messages.py`);")
    w.append("known tshark 4.0 gaps are listed under Caveats.")
    w.append("")
    w.append("## Recorded with")
    w.append("")
    w.append(f"- Debian {read('/etc/debian_version', '?')}, Linux {platform.release()}")
    w.append(f"- {first_line(['ffmpeg', '-version'])}")
    w.append(f"- rtmpdump {dpkg_version('rtmpdump')} ({first_line(['rtmpdump', '-h'])})")
    w.append(f"- GStreamer {first_line(['gst-launch-1.0', '--version']).split()[-1]}"
             f" (gstreamer1.0-plugins-bad {dpkg_version('gstreamer1.0-plugins-bad')}: rtmpsink, librtmp"
             f" {dpkg_version('librtmp1')})")
    w.append(f"- nginx {dpkg_version('nginx')} with libnginx-mod-rtmp {dpkg_version('libnginx-mod-rtmp')}")
    w.append(f"- {first_line(['tshark', '--version'])}")
    w.append("")
    w.append("nginx ran in the foreground with a generated config in a temporary prefix:")
    w.append("")
    w.append("```nginx")
    w.append("load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;")
    w.append("rtmp { server { listen 127.0.0.1:PORT;   # 19350: module defaults (chunk_size 4096)")
    w.append("                # 19351: plus `chunk_size 60000;` (SRS-style big chunks)")
    w.append("    application live { live on; record off; } } }")
    w.append("```")
    w.append("")
    w.append("Media sources (quiet flags `-nostdin -hide_banner -loglevel error -y` omitted):")
    w.append("")
    w.append("```sh")
    w.append(read(os.path.join(work, "sources.commands")))
    w.append("```")
    w.append("")
    for line in read(os.path.join(work, "sources.state")).splitlines():
        w.append(f"- {line}")
    w.append("")
    w.append("The noise in `big.flv` makes its two key frames large: one above 32768 bytes that fits one")
    w.append("60000-byte chunk, one above 60000 bytes that needs two.")
    w.append("")
    w.append("## Fixtures")
    w.append("")
    w.append("| fixture | port | pcapng | c2s.bin | s2c.bin | tsv |")
    w.append("|---|---:|---:|---:|---:|---:|")
    for name, port in entries:
        sizes = [os.path.getsize(os.path.join(fixtures, f"{name}.{ext}"))
                 for ext in ("pcapng", "c2s.bin", "s2c.bin", "tshark.tsv")]
        w.append(f"| [{name}](#{name}) | {port} | " + " | ".join(str(s) for s in sizes) + " |")
    w.append("")

    all_missed = []
    cut_off = []  # fixtures whose capture ends inside a chunk
    late_starts = [0, 0]  # messages whose first chunk has a type-2/3 header: [decoded, all]
    for name, port in entries:
        rows = tsv_rows(os.path.join(fixtures, f"{name}.tshark.tsv"))
        result = analyse(rows, port, fixtures, name)
        client_port = next(r["tcp.srcport"] for r in rows if r["tcp.srcport"] != port)
        w.append(f"### {name}")
        w.append("")
        w.append("Recorded with:")
        w.append("")
        w.append("```sh")
        w.append(read(os.path.join(work, f"{name}.commands")))
        w.append("```")
        w.append("")
        w.append(f"Server 127.0.0.1:{port}, client port {client_port}. What the real peer reached:")
        for line in read(os.path.join(work, f"{name}.state")).splitlines():
            w.append(f"- {line}")
        for d in ("c2s", "s2c"):
            t = result[d]["trailing"]
            if t:
                cut_off.append(name)
                w.append(f"- {d}: the last {t.length} bytes (offset {t.offset}) are a chunk the close cut off"
                         " (no complete message).")
        w.append("")
        w.append("The conversation, message by message (`#` = pcapng frame that completes it; media and")
        w.append("acknowledgements collapsed into runs):")
        w.append("")
        w.append("```")
        w.extend(conversation(result))
        w.append("```")
        w.append("")
        w.append("Messages per direction and type, as read from the `.bin` files and as tshark decodes them:")
        w.append("")
        w.extend(count_table(result))
        w.append("")
        for d in ("c2s", "s2c"):
            for _, m, decoded in result[d]["items"]:
                if m.fmt >= 2:
                    late_starts[0] += decoded
                    late_starts[1] += 1
        for (d, fmt, t), n in sorted(missed(result).items()):
            all_missed.append(f"| {name} | {d} | {fmt} | {t} {TYPE_NAMES.get(t, '?')} | {n} |")
    w.append("## Caveats")
    w.append("")
    w.append("- The `.tsv` files are made with `-o rtmpt.max_packet_size:131072`. With tshark's default")
    w.append("  (32768) the dissector loses the chunk stream of both chunk60000 fixtures right after")
    w.append("  `Set Chunk Size 60000` and reports `Unknown (0x0)` messages from there on.")
    w.append("- tshark 4.0 does not decode a message whose first chunk has a type-2 or type-3 header (it")
    w.append(f"  handles them on continuation chunks): it decoded {late_starts[0]} of the {late_starts[1]} such"
             " messages in these")
    w.append("  captures (`-2` two-pass analysis does not help). Every message missing from the `.tsv`, by")
    w.append("  the header type of its first chunk:")
    w.append("")
    if all_missed:
        w.append("  | fixture | direction | first header type | message type | missed |")
        w.append("  |---|---|---:|---|---:|")
        w.extend("  " + line for line in all_missed)
    else:
        w.append("  (none in this recording)")
    w.append("")
    w.append("- Timestamps, handshake random bytes, TCP ports and segmentation change with every recording;")
    w.append("  the shape of each conversation (messages, order, counts) does not, up to media pacing.")
    w.append("- nginx's RTMP module tells players that a live stream ended only with User Control")
    w.append("  Stream EOF (no onStatus, by default): neither ffmpeg nor rtmpdump exits on it, hence `-t`")
    w.append("  for the ffmpeg players and rtmpdump's `-m 2` read timeout.")
    w.append("- Closing: a peer that closes its socket with unread bytes in it sends RST, not FIN. ffmpeg")
    w.append("  writes a chunk header and its body in two writes; when Nagle holds the body back at close,")
    w.append("  the RST drops it and the capture ends with a cut-off chunk"
             + (f" (here: {', '.join(f'`{n}`' for n in cut_off)})" if cut_off else " (not in this recording)")
             + ":")
    w.append("  readers must accept a last chunk that never completes.")
    print("\n".join(w))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
