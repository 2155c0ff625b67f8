"""Deprecated name of `csc_warehouse.serve` (writing the serving file), kept for one release.

"publish" now means recording months as first reported (`csc_warehouse.as_reported`); import `serve`,
`ServeFailed` and `ServeResult` from `csc_warehouse.serve` instead.
"""

from __future__ import annotations

import warnings

from csc_warehouse.serve import (
    CHILD_LEVEL_COLUMN,
    SERVED_SCHEMAS,
    STORAGE_COMPATIBILITY_VERSION,
    ServeFailed,
    ServeResult,
    serve,
    storage_version,
)

warnings.warn(
    "csc_warehouse.publish is deprecated: use csc_warehouse.serve (serve, ServeFailed, ServeResult)",
    DeprecationWarning,
    stacklevel=2,
)

# The old names of the same objects.
publish = serve
PublishFailed = ServeFailed
PublishResult = ServeResult

__all__ = [
    "CHILD_LEVEL_COLUMN",
    "SERVED_SCHEMAS",
    "STORAGE_COMPATIBILITY_VERSION",
    "PublishFailed",
    "PublishResult",
    "ServeFailed",
    "ServeResult",
    "publish",
    "serve",
    "storage_version",
]
