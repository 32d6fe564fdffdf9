"""Where the tests leave files for a person to look at (screenshots, rendered emails): the git-ignored
`artifacts/` under VAR_DIR (`var/` by default), or ARTIFACTS_DIR when set. Never the repository's top."""

import os
from pathlib import Path

from django.conf import settings


def artifacts_dir() -> Path:
    path = Path(os.environ.get("ARTIFACTS_DIR") or settings.VAR_DIR / "artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path
