"""WebSocket applications that refuse clients the way real ones do, for tests/paths.

Built on Python `websockets` like tests/support/backend.py (an echo server at heart), each flag
adds one realistic refusal:

  --subprotocol NAME   only accept clients that offer NAME (websockets answers 400 "missing
                       subprotocol" otherwise)
  --origin ORIGIN      answer 403 "Forbidden origin" unless Origin is ORIGIN
  --page               answer every request with a 200 JSON health page (no WebSocket here)
  --close CODE:REASON  accept the upgrade, then close at once with CODE and REASON
  --delay SECONDS      wait this long before answering the handshake (a slow application)
  --no-pong            a hand-rolled handshake (plain sockets, one thread per connection)
                       that answers 101 and then never reads a frame: no pong, no echo

Usage: apps.py PORT [flags]
"""

import argparse
import asyncio
import base64
import hashlib
import http
import socket
import sys
import threading
from pathlib import Path

# The echo loop and server settings are the support backend's.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
from backend import echo, run, serve_until_killed  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("--subprotocol")
    p.add_argument("--origin")
    p.add_argument("--page", action="store_true")
    p.add_argument("--close")
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--no-pong", action="store_true")
    return p.parse_args()


def no_pong(port):
    """Answers the handshake correctly, then holds the connection without reading."""
    listener = socket.create_server(("127.0.0.1", port))
    print(f"listening on 127.0.0.1:{port}", flush=True)

    def serve_one(conn):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
        key = b""
        for line in data.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"sec-websocket-key":
                key = value.strip()
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        conn.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        threading.Event().wait()

    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve_one, args=(conn,), daemon=True).start()


GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


async def main():
    args = parse_args()
    if args.no_pong:
        no_pong(args.port)

    async def process_request(connection, request):
        if args.delay:
            await asyncio.sleep(args.delay)
        if args.page:
            return connection.respond(http.HTTPStatus.OK, '{"status":"ok"}\n')
        if args.origin and request.headers.get("Origin") != args.origin:
            return connection.respond(http.HTTPStatus.FORBIDDEN, "Forbidden origin\n")
        return None

    async def handler(ws):
        if args.close:
            code, _, reason = args.close.partition(":")
            await ws.close(int(code), reason)
            return
        await echo(ws)

    options = {}
    if args.subprotocol:
        options["subprotocols"] = [args.subprotocol]
    await serve_until_killed(handler, "127.0.0.1", args.port, process_request, **options)


if __name__ == "__main__":
    run(main)
