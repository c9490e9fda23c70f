#!/usr/bin/env python3
"""Turn `tshark -q -z follow,tcp,raw,N` output into two raw byte files.

    follow_to_bin.py SERVER_PORT C2S_OUT S2C_OUT < follow.txt

tshark prints the bytes sent by "Node 0" as hex lines at the margin and the
bytes sent by "Node 1" as hex lines indented by a tab. The node whose port is
SERVER_PORT is the server; the other is the client.
"""

import re
import sys


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    server_port = argv[1]
    nodes = {}
    sent = {0: bytearray(), 1: bytearray()}
    for line in sys.stdin:
        m = re.match(r"^Node ([01]): (.*):(\d+)\s*$", line)
        if m:
            nodes[int(m.group(1))] = m.group(3)
            continue
        text = line.rstrip("\n")
        if not text.strip() or not re.fullmatch(r"\t?[0-9a-f]+", text):
            continue
        node = 1 if text.startswith("\t") else 0
        sent[node] += bytes.fromhex(text.strip())
    if sorted(nodes) != [0, 1]:
        print("follow output names no two nodes", file=sys.stderr)
        return 1
    if server_port not in nodes.values():
        print(f"neither node uses server port {server_port}: {nodes}", file=sys.stderr)
        return 1
    server = 0 if nodes[0] == server_port else 1
    with open(argv[2], "wb") as f:
        f.write(sent[1 - server])
    with open(argv[3], "wb") as f:
        f.write(sent[server])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
