"""The local admin key of `make run`: created on the first run, kept in DATA_DIR readable only by its owner."""

from __future__ import annotations

import os
from pathlib import Path

from app.config import Config
from app.db import connect
from app.repos import api_keys as key_repo
from app.services import api_keys as key_service

LOCAL_KEY_NAME = "local-admin"
KEY_FILE = "admin.key"


def key_path(config: Config) -> Path:
    """Where the local admin key is kept."""
    return Path(config.data_dir) / KEY_FILE


def ensure_local_admin_key(config: Config) -> str:
    """The local admin key: the one in DATA_DIR while it is still valid, else a new one (file mode 0600)."""
    path = key_path(config)
    with connect(config.database_url) as conn:
        if path.exists():
            key = path.read_text().strip()
            if key and key_service.authenticate(conn, key) is not None:
                return key
            _retire_stale(conn)
        _, key = key_service.create_key(conn, LOCAL_KEY_NAME)
    _write_private(path, key)
    return key


def _retire_stale(conn) -> None:
    """Revoke a previous local key whose file was lost or changed, so its name can be reused."""
    key_repo.retire_name(conn, LOCAL_KEY_NAME)


def _write_private(path: Path, key: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key + "\n")
    os.chmod(path, 0o600)
