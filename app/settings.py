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
    # The public listener (WeChat callbacks, console, /api), as `make run` / `app.serve` bind it.
    app_host: str = "127.0.0.1"
    app_port: int = 8000
    database_url: str = f"sqlite:///{ROOT / 'var' / 'wuye.db'}"
    redis_url: str | None = None
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout_seconds: float = 4.0
    # Rasa's HTTP API and its REST channel require this token (`?token=`); `make run`
    # generates one per run in development. Port 5005 is private in every topology.
    rasa_token: SecretStr | None = None
    # The action endpoint Rasa calls has its own listener, never the public one: loopback
    # (or a private address when Rasa runs on another host), and Rasa's `?token=` required.
    action_host: str = "127.0.0.1"
    action_port: int = 5055
    action_endpoint_token: SecretStr | None = None
    # Trackers grow with a conversation; the public routes take far less (max_body_bytes).
    action_max_body_bytes: int = 8 * 1024 * 1024
    admin_password: SecretStr | None = None
    # Signs staff API tokens; required in production, random per process in development.
    secret_key: SecretStr | None = None
    staff_token_minutes: int = 8 * 60
    # Failed staff sign-ins allowed per username / per client address in one lockout window.
    login_failures_per_username: int = 5
    # (see above) per client address; behind a proxy run uvicorn with --forwarded-allow-ips.
    login_failures_per_address: int = 20
    # How long a throttled username or address waits (minutes); the window of the counts above.
    login_lockout_minutes: int = 15
    # Serve /docs, /redoc and /openapi.json in production too (always served in development).
    api_docs: bool = False
    var_dir: Path = ROOT / "var"
    # Where staff open the app (links to the console in staff-group messages).
    public_base_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"

    # WeChat Official Account (公众号)
    wechat_token: SecretStr | None = None
    wechat_app_id: str | None = None
    wechat_app_secret: SecretStr | None = None
    wechat_encoding_aes_key: SecretStr | None = None
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_notice_template_id: str | None = None
    # WeCom (企业微信): the group 智能机器人, the staff app, the staff group robot webhook
    wecom_bot_token: SecretStr | None = None
    wecom_bot_encoding_aes_key: SecretStr | None = None
    wecom_corp_id: str | None = None
    wecom_corp_secret: SecretStr | None = None
    wecom_agent_id: str | None = None
    wecom_api_base: str = "https://qyapi.weixin.qq.com"
    wecom_app_token: SecretStr | None = None
    wecom_app_encoding_aes_key: SecretStr | None = None
    wecom_robot_webhook_url: SecretStr | None = None
    wecom_robot_per_minute: int = 20
    # Channel hardening and timing
    max_body_bytes: int = 64 * 1024
    signature_max_age_seconds: int = 300
    reply_deadline_seconds: float = 4.5
    dedupe_ttl_seconds: int = 24 * 3600
    recovery_interval_seconds: float = 10.0
    recovery_after_seconds: float = 30.0
    # Residents are reminded this long before a booking starts.
    booking_reminder_minutes: int = 60
    # House binding: the proofs accepted, in order of preference (phone_last4, sms, review).
    binding_proofs: str = "phone_last4,review"
    # SMS codes for binding: "tencent" (Tencent Cloud SMS) or "aliyun" (Aliyun SMS).
    sms_provider: Literal["tencent", "aliyun"] | None = None
    # Tencent Cloud SMS (API 3.0, TC3-HMAC-SHA256)
    tencent_sms_secret_id: str | None = None
    tencent_sms_secret_key: SecretStr | None = None
    tencent_sms_sdk_app_id: str | None = None
    tencent_sms_sign_name: str | None = None
    tencent_sms_template_id: str | None = None
    tencent_sms_region: str = "ap-guangzhou"
    tencent_sms_base_url: str = "https://sms.tencentcloudapi.com"
    # Aliyun SMS (dysmsapi RPC, HMAC-SHA1 signature)
    aliyun_sms_access_key_id: str | None = None
    aliyun_sms_access_key_secret: SecretStr | None = None
    aliyun_sms_sign_name: str | None = None
    aliyun_sms_template_code: str | None = None
    aliyun_sms_base_url: str = "https://dysmsapi.aliyuncs.com"
    # Production topology (README, "Running in production"): app and Rasa worker processes,
    # and where Rasa keeps conversations (PostgreSQL) — several Rasa workers also need
    # REDIS_URL for its lock store.
    app_workers: int = 1
    rasa_workers: int = 1
    rasa_tracker_store_url: str | None = None

    @property
    def admin_password_file(self) -> Path:
        """Where `init-db` leaves the generated development password of `admin`."""
        return self.var_dir / "admin-password.txt"


@lru_cache
def get_settings() -> Settings:
    return Settings()
