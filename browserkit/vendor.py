"""Fetch StackOne's `<stackone-hub>` web component from the npm registry, pinned and integrity-checked.

`python -m browserkit.vendor` (run by `make run` and `make test`) writes browserkit/static/vendor/stackone-hub-<v>.js.
The tarball must match the integrity npm publishes for that exact version, or nothing is written.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "@stackone/hub"
VERSION = "1.11.4"
# npm's dist.integrity for @stackone/hub@1.11.4 (MIT): the sha512 of the published tarball.
INTEGRITY = "sha512-qDl+GFfel27aiCndmqHHEug1pKXtldhhBy8JpbzTv/dAP6IPiGWJuX+KEJbJy7vUrR3ONgHPvvEkMfJJylpYCA=="
TARGET = Path(__file__).resolve().parent / "static" / "vendor" / f"stackone-hub-{VERSION}.js"


def integrity_of(data: bytes) -> str:
    """The Subresource-Integrity string npm records for a tarball."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def extract(tarball: bytes) -> bytes:
    """The web component bundle from a verified tarball, after checking it is the package, version and licence."""
    if integrity_of(tarball) != INTEGRITY:
        raise SystemExit(f"{PACKAGE}@{VERSION}: the tarball does not match the pinned integrity; nothing written")
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        manifest = json.load(archive.extractfile("package/package.json"))
        bundle = archive.extractfile("package/dist/webcomponent.js").read()
    if (manifest.get("name"), manifest.get("version"), manifest.get("license")) != (PACKAGE, VERSION, "MIT"):
        raise SystemExit(f"{PACKAGE}@{VERSION}: unexpected package manifest")
    return bundle


def main() -> int:
    """Download with `npm pack` (the registry's own client), verify, extract; a no-op when already present."""
    if TARGET.exists():
        return 0
    with tempfile.TemporaryDirectory() as folder:
        try:
            packed = subprocess.run(["npm", "pack", f"{PACKAGE}@{VERSION}", "--json", "--pack-destination", folder],
                                    capture_output=True, text=True, timeout=300, check=True)
        except FileNotFoundError:
            print(f"browserkit.vendor: npm is not installed, so StackOne's hub ({PACKAGE}@{VERSION}) could not be "
                  "fetched: install Node.js's npm (apt-get install npm); the integrations page needs it",
                  file=sys.stderr)
            return 1
        except subprocess.CalledProcessError as exc:
            # npm's own words (the registry unreachable, a proxy refusing), its last lines, so the cause is seen.
            said = " ".join(line.strip() for line in (exc.stderr or "").strip().splitlines()[-3:])
            print(f"browserkit.vendor: npm could not fetch {PACKAGE}@{VERSION} (exit {exc.returncode}): "
                  f"{said[:500] or 'no message'}; the integrations page needs it", file=sys.stderr)
            return 1
        except (OSError, subprocess.SubprocessError) as exc:
            print(f"browserkit.vendor: could not fetch {PACKAGE}@{VERSION} with npm ({type(exc).__name__}); "
                  "the integrations page needs it", file=sys.stderr)
            return 1
        filename = json.loads(packed.stdout)[0]["filename"]
        bundle = extract((Path(folder) / filename).read_bytes())
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_bytes(bundle)
    print(f"browserkit.vendor: {PACKAGE}@{VERSION} verified ({INTEGRITY[:19]}…), {len(bundle)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
