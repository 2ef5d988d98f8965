"""The public interop vectors shared by the whole team (../shared/wechat/vectors.json)."""

from __future__ import annotations

import json
from pathlib import Path

VECTORS_FILE = Path(__file__).resolve().parents[3] / "shared" / "wechat" / "vectors.json"
VECTORS = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
WECOM = [name for name in VECTORS if name.startswith("wecom_")]
OA = VECTORS["official_account_tencent_java_sample_pamtest"]
