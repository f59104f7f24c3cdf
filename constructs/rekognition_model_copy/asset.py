"""The backing function's code: the handler in ``lambda/`` and crhelper next to it, built without Docker.

The handler ships inside the wheel as ``rekognition_model_copy._handler`` (a source checkout has it in
``lambda/``). :func:`build_handler_asset` assembles the asset directory by a plain packaging step, once per
process (:func:`handler_asset_dir`), and its content alone decides the asset hash.
"""

from __future__ import annotations

import atexit
import functools
import importlib.metadata
import importlib.util
import shutil
import tempfile
from pathlib import Path

HANDLER_ENTRY_POINT = "index.handler"
"""The function's handler: ``handler`` in ``index.py``."""
HANDLER_PACKAGE = "_handler"
"""The handler's package inside the installed wheel (``rekognition_model_copy._handler``)."""
TEST_FILE_PATTERNS = ("test_*.py", "*_test.py", "conftest.py")
"""Handler modules left out of the asset (the wheel leaves them out too, see ``pyproject.toml``)."""


def handler_source_dir() -> Path:
    """Where the handler sources are: inside the installed wheel, else ``lambda/`` of a source checkout."""
    here = Path(__file__).resolve().parent
    candidates = (here / HANDLER_PACKAGE, here.parents[1] / "lambda")
    for candidate in candidates:
        if (candidate / "index.py").is_file():
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"The model-copy handler (index.py) was not found in {looked}. Reinstall the "
        "rekognition-model-copy package, or run from a checkout that has lambda/index.py."
    )


def _crhelper_dir() -> Path:
    spec = importlib.util.find_spec("crhelper")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "crhelper is not installed; the handler asset bundles it. Install rekognition-model-copy "
            "with its dependencies (pip install rekognition-model-copy) or `pip install crhelper==2.0.12`."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _is_test_file(path: Path) -> bool:
    return any(path.match(pattern) for pattern in TEST_FILE_PATTERNS)


def build_handler_asset(destination: Path, handler_dir: Path | None = None) -> Path:
    """Assemble the function's code in ``destination`` and return it.

    Copies every ``*.py`` of the handler directory (test modules left out) and the installed ``crhelper``
    package (``.py`` sources, ``py.typed`` and its licence files; no ``__pycache__``, no stubs). boto3 is
    not bundled: the Lambda runtime provides it. Only file contents and names end up in the asset hash.
    """
    source = handler_dir if handler_dir is not None else handler_source_dir()
    destination.mkdir(parents=True, exist_ok=True)
    for module in sorted(source.glob("*.py")):
        if not _is_test_file(module):
            shutil.copyfile(module, destination / module.name)

    crhelper_source = _crhelper_dir()
    crhelper_target = destination / "crhelper"
    crhelper_target.mkdir(exist_ok=True)
    for file in sorted(crhelper_source.iterdir()):
        if file.is_file() and (file.suffix == ".py" or file.name == "py.typed"):
            shutil.copyfile(file, crhelper_target / file.name)
    try:
        distribution = importlib.metadata.distribution("crhelper")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - crhelper vendored without metadata
        return destination
    for licence in ("LICENSE", "NOTICE"):
        text = distribution.read_text(licence)
        if text is not None:
            (crhelper_target / licence).write_text(text, encoding="utf-8")
    return destination


@functools.cache
def handler_asset_dir() -> Path:
    """The assembled handler asset, built once per process in a temporary directory removed at exit."""
    staging = Path(tempfile.mkdtemp(prefix="rekognition-model-copy-asset-"))
    atexit.register(shutil.rmtree, staging, ignore_errors=True)
    return build_handler_asset(staging)
