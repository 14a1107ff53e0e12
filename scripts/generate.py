"""Rebuild generated/face_v2_client from spec/face-v2.yaml.

    python scripts/generate.py          # rewrite generated/ from the spec
    python scripts/generate.py --check  # exit 1, naming the files, if the
                                        # committed client is stale

The client is built into a temporary folder outside the repository (so the
project's own ruff settings and caches cannot change it), then either
compared file by file with generated/ or copied over it.  Output is
byte-identical from run to run for the pinned generator and ruff versions.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "spec" / "face-v2.yaml"
CONFIG = ROOT / "scripts" / "generate-config.yaml"
PACKAGE = "face_v2_client"
TARGET = ROOT / "generated" / PACKAGE
GENERATOR_VERSION = "0.29.1"


def build(out: Path) -> None:
    """Run the generator into ``out`` with this interpreter's tools on PATH."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    generator = shutil.which("openapi-python-client", path=env["PATH"])
    if generator is None:
        sys.exit("openapi-python-client is not installed: pip install -e '.[test]'")
    version = subprocess.run(
        [generator, "--version"], capture_output=True, text=True, check=True
    ).stdout
    if GENERATOR_VERSION not in version:
        sys.exit(f"need openapi-python-client {GENERATOR_VERSION}, found {version}")

    result = subprocess.run(
        [
            generator,
            "generate",
            "--path",
            str(SPEC),
            "--config",
            str(CONFIG),
            "--meta",
            "none",
            "--output-path",
            str(out),
            "--overwrite",
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=out.parent,
    )
    if result.returncode != 0:
        sys.exit(f"generation failed:\n{result.stdout}{result.stderr}")
    shutil.rmtree(out / ".ruff_cache", ignore_errors=True)
    # The generator writes no PEP 561 marker with --meta none; without it,
    # type checkers (ours and users') treat the models as untyped.
    (out / "py.typed").write_text("# Marker file for PEP 561\n")


def tree(folder: Path) -> set[str]:
    return {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and ".ruff_cache" not in p.parts
    }


def differences(fresh: Path, committed: Path) -> list[str]:
    """Files that are missing, extra or different in ``committed``."""
    new, old = tree(fresh), tree(committed) if committed.exists() else set()
    changed = [
        name
        for name in sorted(new & old)
        if not filecmp.cmp(fresh / name, committed / name, shallow=False)
    ]
    return (
        [f"missing: {n}" for n in sorted(new - old)]
        + [f"extra:   {n}" for n in sorted(old - new)]
        + [f"changed: {n}" for n in changed]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="fail if generated/ differs from a fresh build; write nothing",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / PACKAGE
        build(fresh)
        diff = differences(fresh, TARGET)
        if args.check:
            if diff:
                print("generated/ is stale; run python scripts/generate.py")
                print("\n".join(f"  {line}" for line in diff))
                return 1
            print("generated/ matches spec/face-v2.yaml")
            return 0
        shutil.rmtree(TARGET, ignore_errors=True)
        shutil.copytree(fresh, TARGET)
    print(f"wrote {TARGET.relative_to(ROOT)} ({len(diff)} files changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
