#!/usr/bin/env python3
"""schemathesis against the server's own OpenAPI document (/_workbookd/openapi.json).

The server runs with verified tokens (so schemathesis's check that bad credentials are refused
means something), seeded with one workbook whose item id, and its worksheet `Sheet1`, are given
to every operation so that calls reach the workbook code rather than stopping at 404. A fixed
seed and example count keep the run repeatable and short (about half a minute).

Every check runs except `positive_data_acceptance`: the other keys in paths (tables, names,
columns, rows, functions) are generated at random, and one that does not exist answers 404, as
on Graph; and `unsupported_method`: the document lists the served methods only, while a method
the Kiota SDKs generate for a path but workbookd does not build answers 501 (a DELETE of a named
item, a PATCH of the application), and `PATCH …/rows/{index}` answers Graph's own 400
`ApiNotFound` (docs/graph-compatibility.md, "Call shapes the SDKs send"). A method no client
sends still answers 405 with `Allow`, which the resolver's and the emulator's tests check.

Usage: e2e/fuzz_openapi.py PATH/TO/workbookd [--max-examples N]
"""

import json
import os
import subprocess
import sys
import tempfile
import urllib.request

from run import fixture, start

SECRET = "schemathesis-secret"


def main() -> int:
    binary = os.path.abspath(sys.argv[1])
    examples = sys.argv[sys.argv.index("--max-examples") + 1] if "--max-examples" in sys.argv else "10"
    schemathesis = os.path.join(os.path.dirname(sys.executable), "schemathesis")
    with tempfile.TemporaryDirectory() as tmp:
        seed = os.path.join(tmp, "seed")
        os.makedirs(seed)
        with open(os.path.join(seed, "Book.xlsx"), "wb") as f:
            f.write(fixture())
        proc, base = start(binary, os.path.join(tmp, "data"), "--auth", "jwt", "--jwt-secret", SECRET, "--seed", seed,
                           "--log", "warn")
        try:
            token = subprocess.run([binary, "token", "--user", "dev", "--secret", SECRET], check=True,
                                   capture_output=True, text=True).stdout.strip()
            request = urllib.request.Request(f"{base}/v1.0/me/drive/root:/Book.xlsx",
                                             headers={"Authorization": f"Bearer {token}"})
            item = json.load(urllib.request.urlopen(request))["id"]
            with open(os.path.join(tmp, "schemathesis.toml"), "w") as f:
                f.write('[parameters]\n"path.item-id" = "${WORKBOOKD_ITEM_ID}"\n"path.worksheet" = "Sheet1"\n')
            run = subprocess.run(
                [schemathesis, "run", f"{base}/_workbookd/openapi.json",
                 "-H", f"Authorization: Bearer {token}",
                 "--checks", "all", "--exclude-checks", "positive_data_acceptance,unsupported_method",
                 "--max-examples", examples, "--seed", "1", "--workers", "2", "--max-failures", "1000",
                 "--phases", "examples,coverage,fuzzing", "--no-color", "--generation-database", "none"],
                cwd=tmp, env={**os.environ, "WORKBOOKD_ITEM_ID": item},
            )
            return run.returncode
        finally:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    sys.exit(main())
