"""Running the node tools of tests/fhir_client (LHC-Forms, fhirpath.js, Medplum).

They come from `scripts/install-node` (npm ci from the committed lock). Without node or
the installed modules a test fails when CI is set, and is skipped, saying what to run,
otherwise: never skipped in silence.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.helpers import unavailable

CLIENT = Path(__file__).parent / "fhir_client"
NODE_TIMEOUT = 600  # seconds: a browser on a busy 2-core machine is slow


def need(*tools: str) -> dict[str, str]:
    """node (and other `tools`) on PATH and the modules installed, or fail/skip loudly."""
    found = {name: shutil.which(name) for name in ("node", *tools)}
    missing = [name for name, path in found.items() if path is None]
    if not (CLIENT / "node_modules").is_dir():
        missing.append("tests/fhir_client/node_modules")
    if missing:
        message = (
            f"{', '.join(missing)} not installed: run scripts/install-node "
            "(and scripts/install-browser for chromium)"
        )
        unavailable(message)
    return {name: path for name, path in found.items() if path is not None}


def run_node(script: str, data: dict[str, Any], tmp_path: Path, **env: str) -> Any:
    """Run `tests/fhir_client/<script>` on `data` (a JSON file); its stdout as JSON."""
    tools = need()
    source = tmp_path / f"{Path(script).stem}-input.json"
    source.write_text(json.dumps(data), encoding="utf-8")
    done = subprocess.run(
        [tools["node"], str(CLIENT / script), str(source)],
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT,
        env={**os.environ, **env},
        check=False,
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stderr[-4000:]}"
    return json.loads(done.stdout)
