"""The app process: channels, staff console and API, and the Rasa action endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.logging import configure_logging
from app.routes import actions, console, health, staff_api, wechat
from app.settings import get_settings
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
    configure_logging(settings.log_level, settings.log_format)
    application = FastAPI(title="物业助手", version="0.1.0", lifespan=lifespan)
    application.include_router(health.router)
    application.include_router(actions.router)
    application.include_router(wechat.router)
    application.include_router(staff_api.router)
    application.include_router(console.router)
    application.add_exception_handler(console.LoginRequired, console.to_login)
    application.add_exception_handler(PropertyError, staff_api.refusal_response)
    return application


app = create_app()
