"""ORM models, one module per domain. A service imports only its own module (tested).

Importing this package imports every module in it, found with pkgutil (a new service adds its
module here and edits nothing else), so `storage.db.Base.metadata` holds every table."""
from __future__ import annotations

import importlib
import pkgutil

from sqlalchemy import MetaData

from storage.db import Base

MODULES: tuple[str, ...] = tuple(sorted(f"{__name__}.{m.name}" for m in pkgutil.iter_modules(__path__)
                                        if not m.name.startswith("_")))


def load_all() -> MetaData:
    """Import every model module (registering its tables); the metadata holding them all."""
    for name in MODULES:
        importlib.import_module(name)
    return Base.metadata


load_all()
