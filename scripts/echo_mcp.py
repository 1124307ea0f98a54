#!/usr/bin/env python3
"""A do-nothing MCP server over stdio: the floor a stdio round trip is measured against.

It answers `initialize` and every other request at once with a fixed result, reading
and writing one JSON line at a time; notifications get no answer."""
import json
import sys

RESULT = {"content": [{"type": "text", "text": "{}"}], "structuredContent": {}, "isError": False}


def main():
    out = sys.stdout
    for line in sys.stdin:
        message = json.loads(line)
        if "id" not in message:
            continue
        if message.get("method") == "initialize":
            result = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}}, "serverInfo": {"name": "echo", "version": "0"}}
        else:
            result = RESULT
        out.write(json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
