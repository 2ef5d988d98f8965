"""The Rasa environment `make` builds: the pinned Rasa, and our components importable."""

from __future__ import annotations

import json
import subprocess

from scripts.rasa_env import RASA, rasa_environ
from tests.integration.stack import require_rasa

PROBE = """
import json, pathlib, jieba, rasa, bot.components
print(json.dumps({"rasa": rasa.__version__,
                  "components": str(pathlib.Path(bot.components.__file__).parent)}))
"""


def test_the_rasa_environment_runs_the_pinned_rasa_and_imports_our_components(tmp_path) -> None:
    require_rasa()
    python = RASA.parent / "python"

    # Run from elsewhere: the components must import because the environment knows the
    # project, not because the current directory happens to be the repository.
    probe = subprocess.run(
        [str(python), "-c", PROBE],
        cwd=tmp_path,
        env=rasa_environ(),
        capture_output=True,
        text=True,
        check=True,
    )

    found = json.loads(probe.stdout.strip().splitlines()[-1])
    assert found["rasa"] == "3.6.21"
    assert found["components"].endswith("bot/components")
