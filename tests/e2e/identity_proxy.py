"""A sign-in proxy for browser tests: passes HTTP and the WebSocket through to Closeboard with
the user's e-mail in a trusted header, as oauth2-proxy does for a signed-in user.

Who is signed in is the `test_user` cookie (a browser context's own, sent on the WebSocket's
upgrade request too, which Playwright's extra HTTP headers are not). Whatever the client sends
in the trusted header itself is removed, as a real proxy must. Only each request's head is
rewritten; the bytes after it (an upload's body, the WebSocket's frames, every response) pass
through as they are, one request per connection.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.cookies import SimpleCookie

USER_COOKIE = "test_user"
END_OF_HEAD = b"\r\n\r\n"


def rewritten_head(head: bytes, header: str) -> bytes:
    """The request's head with the trusted header set from the cookie (or left out) and, but
    for a WebSocket upgrade, the connection closed after this one request."""
    request_line, *lines = head.decode("latin-1").split("\r\n")
    fields = [line.split(":", 1) for line in lines if ":" in line]
    upgrade = any(name.strip().lower() == "upgrade" for name, _ in fields)
    cookies = SimpleCookie()
    for name, value in fields:
        if name.strip().lower() == "cookie":
            cookies.load(value.strip())
    kept = [
        f"{name}:{value}"
        for name, value in fields
        if name.strip().lower() not in {header.lower(), "keep-alive"}
        and (upgrade or name.strip().lower() != "connection")
    ]
    if not upgrade:
        kept.append("Connection: close")
    if USER_COOKIE in cookies:
        kept.append(f"{header}: {cookies[USER_COOKIE].value}")
    return ("\r\n".join([request_line, *kept]) + "\r\n\r\n").encode("latin-1")


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(1 << 16):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


def handler(host: str, port: int, header: str):
    async def handle(client_reader, client_writer) -> None:
        try:
            head = await client_reader.readuntil(END_OF_HEAD)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            client_writer.close()
            return
        upstream_reader, upstream_writer = await asyncio.open_connection(host, port)
        upstream_writer.write(rewritten_head(head[: -len(END_OF_HEAD)], header))
        # Cancelled when the proxy shuts down; the pipes have closed their ends by then.
        with suppress(asyncio.CancelledError):
            await asyncio.gather(
                pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer)
            )

    return handle


@contextmanager
def running(upstream: str, header: str, port: int) -> Iterator[str]:
    """The proxy on 127.0.0.1:`port` in a thread of its own, for as long as the block runs;
    `upstream` is host:port."""
    host, _, upstream_port = upstream.partition(":")
    loop = asyncio.new_event_loop()
    started = threading.Event()

    async def serve() -> asyncio.Server:
        return await asyncio.start_server(
            handler(host, int(upstream_port), header), "127.0.0.1", port, limit=1 << 20
        )

    servers: list[asyncio.Server] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        servers.append(loop.run_until_complete(serve()))
        started.set()
        loop.run_forever()

    async def shut_down() -> None:
        # Connections still open (a WebSocket) end before the loop does.
        servers[0].close()
        tasks = asyncio.all_tasks() - {asyncio.current_task()}
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(10)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(shut_down(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
