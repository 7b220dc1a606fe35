"""Serving a fake's ASGI app with uvicorn on a loopback port.

The fake servers (providers, embeddings, Kubernetes) are started inside a
test's own event loop and must be reachable the moment they are entered;
`LoopbackAsgi` is that shared start and stop::

    self._serving = LoopbackAsgi(self._app, name="the fake thing")
    port = await self._serving.start()
    ...
    await self._serving.stop()
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["LoopbackAsgi"]


class LoopbackAsgi:
    """`app` served by uvicorn on `host`:`port` (0: a free port, read back
    from `port` once started). `name` says which fake failed to start;
    `options` go to `uvicorn.Config`.

    The fakes have no startup or shutdown work of their own, so the ASGI
    lifespan is answered here and never reaches `app`: that is what tells
    `start` the server is up, without each fake keeping an event for it.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        name: str,
        host: str = "127.0.0.1",
        port: int = 0,
        **options: Any,
    ) -> None:
        self.app = app
        self.name = name
        self.host = host
        self.port = port
        self._options = options
        self._started = asyncio.Event()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None

    @property
    def server(self) -> uvicorn.Server:
        """The running uvicorn server (its `server_state` lists the connections)."""
        if self._server is None:
            raise RuntimeError(f"{self.name} is not running")
        return self._server

    async def start(self) -> int:
        """Serve, returning the port once startup is complete; RuntimeError
        if the server stops before that."""
        # Made here, not in __init__: an event belongs to the loop that first
        # waits on it, and a fake may be entered again from another test's loop.
        self._started = asyncio.Event()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((self.host, self.port))
        # Listening before uvicorn starts: a client connecting early waits in
        # the backlog instead of being refused.
        sock.listen(128)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._serve,
            interface="asgi3",
            lifespan="on",
            ws="none",
            log_level="warning",
            access_log=False,
            **self._options,
        )
        self._socket, self._server = sock, uvicorn.Server(config)
        self._task = task = asyncio.create_task(self._server.serve(sockets=[sock]))
        started = asyncio.create_task(self._started.wait())
        try:
            await asyncio.wait({started, task}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            # Cancelled while starting: no one will call stop for a server
            # whose start never returned.
            await self.stop()
            raise
        finally:
            started.cancel()
        if task.done():
            self._socket, self._server, self._task = None, None, None
            sock.close()
            await task  # its own error, if it has one, says more than ours
            raise RuntimeError(f"{self.name} stopped while starting")
        return self.port

    async def stop(self) -> None:
        """Stop serving, letting uvicorn finish its connections (within
        `timeout_graceful_shutdown`, if that was given)."""
        # `server` stays readable until the task ends: requests still being
        # answered while uvicorn drains may need it.
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        if self._socket is not None:
            self._socket.close()
        self._server, self._task, self._socket = None, None, None

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._started.set()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
