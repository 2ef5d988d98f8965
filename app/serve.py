"""Serves the app on its two listeners (`python -m app.serve`; `make run` starts it):
the public one on APP_HOST:APP_PORT and the action endpoint's on ACTION_HOST:ACTION_PORT,
with APP_WORKERS uvicorn worker processes sharing both sockets."""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

from app.settings import get_settings


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def main() -> None:
    settings = get_settings()
    config = uvicorn.Config(
        "app.main:app",
        workers=settings.app_workers,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    sockets = [
        bind(settings.app_host, settings.app_port),
        bind(settings.action_host, settings.action_port),
    ]
    server = uvicorn.Server(config)
    if settings.app_workers > 1:
        Multiprocess(config, sockets=sockets).run()
    else:
        server.run(sockets=sockets)


if __name__ == "__main__":
    main()
