"""A WebSocket backend for the audit tests that counts connections.

Plain asyncio, so every TCP connection is seen from accept to close: it records the most
connections open at once (`GET /stats` answers {"max": N, "total": N} without counting
itself). Each upgrade is held HOLD seconds before the 101 so concurrent checks overlap.
A path starting /flaky/ fails with 503 the first time it is asked for, then upgrades; a
request without `Upgrade: websocket` gets 400.

Usage: counting_backend.py PORT [--hold SECONDS]
"""

import argparse
import asyncio
import base64
import hashlib
import json

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("--hold", type=float, default=0.02)
    args = p.parse_args()
    state = {"open": 0, "max": 0, "total": 0, "failed_once": set()}

    async def handle(reader, writer):
        counted = False
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else "/"
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            if path == "/stats":
                body = json.dumps({"max": state["max"], "total": state["total"]}).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
                await writer.drain()
                return
            counted = True
            state["open"] += 1
            state["total"] += 1
            state["max"] = max(state["max"], state["open"])
            await asyncio.sleep(args.hold)
            if path.startswith("/flaky/") and path not in state["failed_once"]:
                state["failed_once"].add(path)
                writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\nConnection: close\r\n\r\nbusy\n")
                await writer.drain()
                return
            if headers.get("upgrade", "").lower() != "websocket" or "sec-websocket-key" not in headers:
                writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 20\r\nConnection: close\r\n\r\nmissing Upgrade: ws\n")
                await writer.drain()
                return
            accept = base64.b64encode(hashlib.sha1((headers["sec-websocket-key"] + GUID).encode()).digest())
            writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
            await writer.drain()
            # Until the client goes: a close frame is answered, anything else drained.
            while True:
                b = await reader.read(2)
                if len(b) < 2:
                    return
                opcode, length = b[0] & 0x0F, b[1] & 0x7F
                if length == 126:
                    length = int.from_bytes(await reader.readexactly(2), "big")
                elif length == 127:
                    length = int.from_bytes(await reader.readexactly(8), "big")
                mask = await reader.readexactly(4) if b[1] & 0x80 else b"\0\0\0\0"
                data = bytes(x ^ mask[i % 4] for i, x in enumerate(await reader.readexactly(length)))
                if opcode == 0x9:
                    writer.write(bytes([0x8A, len(data)]) + data)
                elif opcode == 0x1:
                    writer.write(bytes([0x81, len(data)]) + data)
                elif opcode == 0x8:
                    writer.write(b"\x88\x00")
                    await writer.drain()
                    return
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            if counted:
                state["open"] -= 1
            try:
                writer.close()
            except Exception:
                pass

    server = await asyncio.start_server(handle, "127.0.0.1", args.port, backlog=1024)
    print(f"listening on 127.0.0.1:{args.port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
