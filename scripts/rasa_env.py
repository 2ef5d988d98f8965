"""Where the Rasa environment and model live, and how to call Rasa."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
MODELS = ROOT / "models"
MODEL = MODELS / "wuye.tar.gz"
FINGERPRINT = MODELS / "wuye.fingerprint"
# Everything a training run reads: a change to any of these makes the model stale.
TRAINING_INPUTS = (
    "bot/config.yml",
    "bot/domain",
    "bot/components",
    "bot/dictionaries",
    "data",
    "bot/requirements.lock",
)
PROJECT_ARGS = ["--config", "bot/config.yml", "--domain", "bot/domain"]


def rasa_environ(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        PYTHONWARNINGS="ignore",
    )
    env.update(extra)
    return env
