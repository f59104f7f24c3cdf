"""One botocore data loader for every session of a process that emulates many.

Each ``boto3.Session`` builds its own botocore ``Loader``, which parses the service models, endpoints and
partitions JSON again: the driver makes a session per account, Region and role, each emulated Lambda
sandbox has its own (``lambda_runtime._new_session``), and tests make more; parsing was about half the time
of a lifecycle test. The models are read-only data (one session already hands the same parsed objects to
all its clients), so one loader per data path is shared. Nothing emulated changes: the clients, their
configuration and request validation are the same; only the parsing is done once.

Each ``boto3.Session`` appends boto3's own data directory to its loader's search paths: on a shared loader
that list would grow by one entry per session, and every client creation walks it
(``Loader.list_available_services``), so the shared loader's list keeps each path once.
"""

from __future__ import annotations

import functools
from typing import Any

import botocore.session
from botocore import loaders

_create_loader = loaders.create_loader


class _UniquePaths(list[str]):
    """A search path list that takes each path once."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)

    def extend(self, paths: Any) -> None:
        for path in paths:
            self.append(path)

    def insert(self, index: Any, path: str) -> None:
        if path not in self:
            super().insert(index, path)


@functools.cache
def shared_loader(search_path_string: str | None = None) -> Any:
    """The process's loader for a data path (``AWS_DATA_PATH``; None: botocore's own)."""
    loader = _create_loader(search_path_string)
    loader._search_paths = _UniquePaths(loader.search_paths)
    return loader


def share() -> None:
    """Make every botocore session created from now on in this process use the shared loader."""
    botocore.session.create_loader = shared_loader
