"""Synthesise the integration tests and compare them with their committed snapshots, offline.

    python integ/snapshot.py             # compare (make test runs this through tests/integ/)
    python integ/snapshot.py --update    # rewrite the snapshots (make integ-snapshot)

Each ``integ/integ_<name>.py`` app has a snapshot ``integ/integ_<name>.py.snapshot/`` (integ-runner's
layout): its stack templates, asset manifests, ``manifest.json`` and ``integ.json``, synthesised with the
placeholder inputs of ``settings.py`` (never with real ARNs: the ``INTEG_*`` variables are removed). As
integ-runner does by default, asset hashes are not compared: the handler's code (``lambda/``) may change
without a new snapshot, its template may not. The snapshot holds no asset contents and no construct
metadata (stack traces).

Why not ``integ-runner`` itself: its newest release (2.197.10) reads cloud assemblies up to schema 53, and
aws-cdk-lib 2.275.0 writes schema 55 ("AssemblyVersionMismatch"); see the README, "Verify in your accounts".

Needs no AWS credentials and no network: synthesis only (the CDK's jsii runtime runs on the local Node).
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

INTEG_DIR = Path(__file__).resolve().parent
REPO_ROOT = INTEG_DIR.parent
SNAPSHOT_SUFFIX = ".snapshot"
REGENERATE_COMMAND = "make integ-snapshot"
INPUT_ENV_VARS = ("INTEG_SOURCE_VERSION_ARN", "INTEG_SOURCE_PROJECT_ARN", "INTEG_DESTINATION_ACCOUNT")
"""settings.INPUT_ENV_VARS (not imported: settings imports the CDK, and this module must start fast)."""
SYNTH_TIMEOUT_SECONDS = 180

# What a snapshot keeps of a cloud assembly.
_KEPT_FILES = re.compile(r"^(manifest\.json|integ\.json|.+\.template\.json|.+\.assets\.json)$")
# Volatile values, replaced in the snapshot and before comparing.
_NORMALISATIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Asset and template hashes (sha256): the handler's code changes them, the behaviour under test not.
    (re.compile(r"\b[0-9a-f]{64}\b"), "<hash>"),
    # Asset publishing destinations, "<account>-<region>-<8 hex digits of the destination>".
    (re.compile(r'"(\d{12}-[a-z0-9-]+?)-[0-9a-f]{8}"'), r'"\1-<hash>"'),
    # integ-tests-alpha salts every assertion with the synthesis time, so that each deploy re-runs it.
    (re.compile(r'"salt": "\d+"'), '"salt": "<salt>"'),
)


def tests(names: Sequence[str] = ()) -> list[Path]:
    """The integration test apps, ``integ/integ_*.py`` (or those named, by file name or stem)."""
    found = sorted(INTEG_DIR.glob("integ_*.py"))
    if not names:
        return found
    chosen = [path for path in found if path.name in names or path.stem in names]
    unknown = set(names) - {p.name for p in chosen} - {p.stem for p in chosen}
    if unknown:
        raise SystemExit(
            f"No integration test {sorted(unknown)} in {INTEG_DIR} (have {[p.name for p in found]})."
        )
    return chosen


def snapshot_dir(test: Path) -> Path:
    return test.with_name(test.name + SNAPSHOT_SUFFIX)


def normalise(text: str) -> str:
    for pattern, replacement in _NORMALISATIONS:
        text = pattern.sub(replacement, text)
    return text


def synth_env(environ: Mapping[str, str], outdir: Path) -> dict[str, str]:
    """The environment of a snapshot synthesis: no real inputs, no context from outside, output to outdir."""
    env = {k: v for k, v in environ.items() if k not in INPUT_ENV_VARS and k != "CDK_CONTEXT_JSON"}
    env["CDK_OUTDIR"] = str(outdir)
    return env


def synthesise(test_paths: Sequence[Path], workdir: Path) -> dict[Path, dict[str, str]]:
    """Synthesise each app (in parallel, in its own process) and return its kept files, normalised."""
    running: list[tuple[Path, Path, subprocess.Popen[str]]] = []
    for test in test_paths:
        outdir = workdir / test.stem
        process = subprocess.Popen(
            [sys.executable, str(test)],
            cwd=REPO_ROOT,
            env=synth_env(os.environ, outdir),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        running.append((test, outdir, process))
    results: dict[Path, dict[str, str]] = {}
    failures: list[str] = []
    for test, outdir, process in running:
        output, _ = process.communicate(timeout=SYNTH_TIMEOUT_SECONDS)
        if process.returncode != 0:
            failures.append(f"{test.relative_to(REPO_ROOT)} failed to synthesise:\n{output}")
            continue
        results[test] = {
            path.name: normalise(path.read_text(encoding="utf-8"))
            for path in sorted(outdir.iterdir())
            if path.is_file() and _KEPT_FILES.match(path.name)
        }
    if failures:
        raise SystemExit("\n".join(failures))
    return results


def read_snapshot(test: Path) -> dict[str, str]:
    directory = snapshot_dir(test)
    if not directory.is_dir():
        return {}
    return {
        path.name: path.read_text(encoding="utf-8") for path in sorted(directory.iterdir()) if path.is_file()
    }


def write_snapshot(test: Path, files: Mapping[str, str]) -> None:
    directory = snapshot_dir(test)
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir()
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")


def differences(
    test: Path, expected: Mapping[str, str], actual: Mapping[str, str], max_lines: int = 60
) -> str:
    """A readable account of how the synthesised files differ from the snapshot ('' if they do not)."""
    lines: list[str] = []
    relative = snapshot_dir(test).relative_to(REPO_ROOT)
    if not expected:
        return f"{relative}: no snapshot yet.\n"
    for name in sorted(set(expected) | set(actual)):
        if name not in actual:
            lines.append(f"{relative}/{name}: in the snapshot, no longer synthesised")
        elif name not in expected:
            lines.append(f"{relative}/{name}: synthesised, not in the snapshot")
        elif expected[name] != actual[name]:
            diff = list(
                difflib.unified_diff(
                    expected[name].splitlines(),
                    actual[name].splitlines(),
                    f"snapshot/{name}",
                    f"synthesised/{name}",
                    lineterm="",
                    n=2,
                )
            )
            shown = diff[:max_lines]
            lines.append(f"{relative}/{name} differs:")
            lines.extend(shown)
            if len(diff) > len(shown):
                lines.append(f"... ({len(diff) - len(shown)} more diff lines)")
    return "\n".join(lines) + ("\n" if lines else "")


def compare(test_paths: Sequence[Path], synthesised: Mapping[Path, Mapping[str, str]]) -> tuple[bool, str]:
    """Compare synthesised files with the committed snapshots: (all equal, report)."""
    report = "".join(differences(test, read_snapshot(test), synthesised[test]) for test in test_paths)
    if not report:
        names = ", ".join(test.name for test in test_paths)
        return True, f"Integration test snapshots match ({names}).\n"
    return False, (
        f"{report}\nThe integration test snapshots are out of date. If these changes are intended, run\n"
        f"    {REGENERATE_COMMAND}\nand commit integ/*.snapshot/ (asset hashes are ignored: a change of the "
        "handler's code alone needs no new snapshot).\n"
    )


def check(test_paths: Sequence[Path]) -> tuple[bool, str]:
    """Synthesise and compare: (all equal, report)."""
    with tempfile.TemporaryDirectory(prefix="integ-snapshot-") as workdir:
        synthesised = synthesise(test_paths, Path(workdir))
    return compare(test_paths, synthesised)


def update(test_paths: Sequence[Path]) -> str:
    with tempfile.TemporaryDirectory(prefix="integ-snapshot-") as workdir:
        synthesised = synthesise(test_paths, Path(workdir))
    for test in test_paths:
        write_snapshot(test, synthesised[test])
    return "".join(f"wrote {snapshot_dir(test).relative_to(REPO_ROOT)}/\n" for test in test_paths)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help="rewrite the snapshots instead of comparing")
    parser.add_argument("tests", nargs="*", help="integ_<name>.py files (default: all)")
    args = parser.parse_args(argv)
    test_paths = tests(args.tests)
    if args.update:
        sys.stdout.write(update(test_paths))
        return 0
    ok, report = check(test_paths)
    (sys.stdout if ok else sys.stderr).write(report)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
