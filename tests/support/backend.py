"""A real WebSocket echo backend for wspath's tests and examples.

Echoes every message on any path. Keepalive pings are off (ping_interval=None) so an idle
test is really idle: any drop comes from the proxy in front, never from this server.
Each handshake request is logged to stdout as one JSON line (path and headers), so a test can
check what reached the backend. `--reject PATH=STATUS` answers that path with STATUS instead of
upgrading (a real application refusing a route).

`--require-host NAME` answers 403 to any other Host (a name-based virtual host).

Usage: backend.py PORT [--reject /path=403 ...] [--require-host NAME]
"""

import argparse
import asyncio
import http
import json
import sys

from websockets.asyncio.server import serve


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--reject", action="append", default=[], metavar="PATH=STATUS")
    # A name-based virtual host: any other Host gets 403 (what a proxy that does not preserve
    # Host runs into).
    p.add_argument("--require-host")
    return p.parse_args()


async def main():
    args = parse_args()
    rejects = {}
    for item in args.reject:
        path, _, status = item.partition("=")
        rejects[path] = int(status)

    def process_request(connection, request):
        line = {"path": request.path, "headers": [[k, v] for k, v in request.headers.raw_items()]}
        print(json.dumps(line), flush=True)
        if args.require_host and request.headers.get("Host", "").split(":")[0] != args.require_host:
            return connection.respond(http.HTTPStatus.FORBIDDEN, "unknown virtual host\n")
        status = rejects.get(request.path.split("?")[0])
        if status is not None:
            return connection.respond(http.HTTPStatus(status), f"rejected {request.path}\n")
        return None

    await serve_until_killed(echo, args.host, args.port, process_request)


async def echo(ws):
    """Sends every message back until the client goes."""
    try:
        async for message in ws:
            await ws.send(message)
    except Exception:
        pass


async def serve_until_killed(handler, host, port, process_request, **options):
    """Serves `handler` on host:port until the test stops this process; keepalive pings off."""
    async with serve(
        handler,
        host,
        port,
        process_request=process_request,
        ping_interval=None,
        ping_timeout=None,
        close_timeout=1,
        **options,
    ):
        print(f"listening on {host}:{port}", flush=True)
        await asyncio.Future()


def run(main):
    """Runs the server's `main` coroutine; a test's SIGINT is a clean exit."""
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    run(main)
