"""Configuration, from the environment (and `.env` in development); see `.env.example`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=ROOT / ".env", extra="ignore")

    app_env: Literal["development", "production"] = "development"
    database_url: str = f"sqlite:///{ROOT / 'var' / 'wuye.db'}"
    redis_url: str | None = None
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout_seconds: float = 4.0
    action_endpoint_token: SecretStr | None = None
    admin_password: SecretStr | None = None
    var_dir: Path = ROOT / "var"
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"

    @property
    def admin_password_file(self) -> Path:
        """Where `init-db` leaves the generated development password of `admin`."""
        return self.var_dir / "admin-password.txt"


@lru_cache
def get_settings() -> Settings:
    return Settings()
