"""The app process: channels, staff console and API on the public listener, and the Rasa
action endpoint on a listener of its own (`app.listeners`, `app.serve`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.listeners import BodyLimit, ByListener
from app.logging import configure_logging
from app.routes import actions, bindings, console, health, staff_api, wechat
from app.security_headers import docs_urls, install_security_headers
from app.settings import get_settings
from app.startup_checks import refuse_unsafe_settings
from app.wiring import Wiring
from integrations.property.interface import PropertyError


@asynccontextmanager
async def lifespan(application: FastAPI) -> AsyncIterator[None]:
    wiring = Wiring.build(get_settings())
    application.state.wiring = wiring
    wiring.start()
    try:
        yield
    finally:
        await wiring.stop()


def create_app() -> FastAPI:
    settings = get_settings()
    refuse_unsafe_settings(settings)
    configure_logging(settings.log_level, settings.log_format)
    application = FastAPI(
        title="物业助手", version="0.1.0", lifespan=lifespan, **docs_urls(settings)
    )
    install_security_headers(application, settings)
    application.include_router(health.router)
    application.include_router(wechat.router)
    application.include_router(staff_api.router)
    application.include_router(console.router)
    application.include_router(bindings.api)
    application.include_router(bindings.console)
    application.add_exception_handler(console.LoginRequired, console.to_login)
    application.add_exception_handler(PropertyError, staff_api.refusal_response)
    application.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return application


def create_action_app() -> FastAPI:
    """What Rasa's action server calls, and nothing else (`/rasa/webhook`, `/rasa/actions`)."""
    application = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    application.include_router(actions.router)
    application.add_middleware(BodyLimit, limit=get_settings().action_max_body_bytes)
    return application


def create_server_app() -> ByListener:
    return ByListener(create_app(), create_action_app(), get_settings().action_port)


app = create_server_app()
