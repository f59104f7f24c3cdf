"""One botocore data loader for every session of the test process.

Each ``boto3.Session`` (the driver makes one per account, Region and role; the emulated Lambda runtime's
handler makes its clients afresh in each execution environment) builds its own botocore ``Loader``, which
parses the service models, endpoints and partitions JSON again: about half the time of a lifecycle test.
The models are read-only data (one session already hands the same parsed objects to all its clients), so
the tests share one loader per data path. Nothing under test changes: the handler's clients, their
configuration, request validation and the emulated services are the same; only the parsing is done once.
Subprocesses (the bench, ``cdk synth``, the wheel's handler) load their own.
"""

from __future__ import annotations

import functools
from typing import Any

import botocore.session
from botocore import loaders

_create_loader = loaders.create_loader


@functools.cache
def _shared_loader(search_path_string: str | None = None) -> Any:
    return _create_loader(search_path_string)


def share() -> None:
    """Make every botocore session created from now on in this process use the shared loader."""
    botocore.session.create_loader = _shared_loader
