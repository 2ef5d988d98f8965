"""The app process: channels, staff console and API, and the Rasa action endpoint."""

from __future__ import annotations

from fastapi import FastAPI

from app.logging import configure_logging
from app.routes import actions, health
from app.settings import get_settings


def create_app() -> FastAPI:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    application = FastAPI(title="物业助手", version="0.1.0")
    application.include_router(health.router)
    application.include_router(actions.router)
    return application


app = create_app()
