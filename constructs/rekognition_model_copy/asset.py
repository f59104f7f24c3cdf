"""The backing function's code: the handler in ``lambda/`` and crhelper next to it, built without Docker.

The handler ships inside the wheel as ``rekognition_model_copy._handler``, with crhelper vendored in it
(a source checkout has the handler in ``lambda/`` and crhelper installed in its venv).
:func:`build_handler_asset` assembles the asset directory by a plain packaging step, once per process
(:func:`handler_asset_dir`), and its content alone decides the asset hash.
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
HANDLER_PACKAGES = ("cfn", "resources")
"""The handler's subpackages (folders of ``lambda/``), shipped with ``index.py`` and the modules beside it."""
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


VENDORED = "crhelper"
"""crhelper's directory next to the handler in the wheel (``rekognition_model_copy/_handler/crhelper``)."""
LICENCE_FILES = ("LICENSE", "NOTICE")
"""crhelper's licence files (Apache-2.0), shipped with every copy of it."""


def crhelper_source(handler_dir: Path | None = None) -> Path:
    """Where the asset's crhelper comes from: the copy vendored next to the handler (an installed wheel;
    the library itself does not depend on crhelper), else the crhelper installed in this environment (a
    development checkout, whose venv pins it from ``lambda/requirements.txt``)."""
    vendored = (handler_dir if handler_dir is not None else handler_source_dir()) / VENDORED
    if (vendored / "__init__.py").is_file():
        return vendored
    spec = importlib.util.find_spec("crhelper")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"crhelper was not found: not vendored in {vendored} and not installed. Reinstall "
            "rekognition-model-copy from its wheel (which carries crhelper), or in a checkout "
            "`pip install -r lambda/requirements.txt`."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def copy_crhelper(source: Path, target: Path) -> Path:
    """Copy crhelper from ``source`` (see :func:`crhelper_source`) into ``target``: its ``.py`` sources,
    ``py.typed`` and its licence files (beside the sources when vendored, else from the installed
    distribution's metadata). No ``__pycache__``, no stubs."""
    target.mkdir(parents=True, exist_ok=True)
    for file in sorted(source.iterdir()):
        if file.is_file() and (file.suffix == ".py" or file.name in ("py.typed", *LICENCE_FILES)):
            shutil.copyfile(file, target / file.name)
    missing = [name for name in LICENCE_FILES if not (target / name).is_file()]
    if missing:
        try:
            distribution = importlib.metadata.distribution("crhelper")
        except importlib.metadata.PackageNotFoundError as error:
            raise FileNotFoundError(f"crhelper's licence files {missing} were not found") from error
        for name in missing:
            text = distribution.read_text(name)
            if text is None:
                raise FileNotFoundError(f"crhelper's {name} is not in its installed metadata")
            (target / name).write_text(text, encoding="utf-8")
    return target


def _is_test_file(path: Path) -> bool:
    return any(path.match(pattern) for pattern in TEST_FILE_PATTERNS)


def build_handler_asset(destination: Path, handler_dir: Path | None = None) -> Path:
    """Assemble the function's code in ``destination`` and return it.

    Copies every ``*.py`` of the handler directory and of its subpackages (:data:`HANDLER_PACKAGES`; test
    modules left out) and crhelper (:func:`copy_crhelper` from :func:`crhelper_source`: vendored in a
    wheel, installed in a checkout).
    boto3 is not bundled: the Lambda runtime provides it. Only file contents and names end up in the
    asset hash.
    """
    source = handler_dir if handler_dir is not None else handler_source_dir()
    destination.mkdir(parents=True, exist_ok=True)
    for folder in ("", *HANDLER_PACKAGES):
        (destination / folder).mkdir(exist_ok=True)
        for module in sorted((source / folder).glob("*.py")):
            if not _is_test_file(module):
                shutil.copyfile(module, destination / folder / module.name)

    copy_crhelper(crhelper_source(source), destination / VENDORED)
    return destination


@functools.cache
def handler_asset_dir() -> Path:
    """The assembled handler asset, built once per process in a temporary directory removed at exit."""
    staging = Path(tempfile.mkdtemp(prefix="rekognition-model-copy-asset-"))
    atexit.register(shutil.rmtree, staging, ignore_errors=True)
    return build_handler_asset(staging)
