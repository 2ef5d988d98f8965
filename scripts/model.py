"""Train the Rasa model when it is missing or its inputs changed.

python -m scripts.model ensure    # train only if stale
python -m scripts.model train     # train now
"""

from __future__ import annotations

import fcntl
import hashlib
import subprocess
import sys
import time

from scripts.rasa_env import (
    FINGERPRINT,
    MODEL,
    MODELS,
    PROJECT_ARGS,
    RASA,
    ROOT,
    TRAINING_INPUTS,
    rasa_environ,
)


def fingerprint() -> str:
    digest = hashlib.sha256()
    for name in TRAINING_INPUTS:
        path = ROOT / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if "__pycache__" in file.parts:
                continue
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def is_stale() -> bool:
    if not MODEL.exists() or not FINGERPRINT.exists():
        return True
    return FINGERPRINT.read_text().strip() != fingerprint()


def train() -> None:
    MODELS.mkdir(exist_ok=True)
    print("训练模型中 / training the Rasa model (about a minute)…", flush=True)
    started = time.monotonic()
    expected = fingerprint()
    subprocess.run(
        [
            str(RASA),
            "train",
            *PROJECT_ARGS,
            "--data",
            "data",
            "--out",
            str(MODELS),
            "--fixed-model-name",
            "wuye",
            "--force",
        ],
        cwd=ROOT,
        env=rasa_environ(),
        check=True,
    )
    FINGERPRINT.write_text(expected + "\n")
    print(f"模型已训练 / model trained in {time.monotonic() - started:.0f} s: {MODEL}", flush=True)


def ensure() -> None:
    """Train if stale; a second `make` running meanwhile waits for this one's model."""
    MODELS.mkdir(exist_ok=True)
    with (MODELS / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_stale():
            train()
        else:
            print(f"模型是最新的 / model is up to date: {MODEL}", flush=True)


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "ensure"
    {"ensure": ensure, "train": train}[command]()
