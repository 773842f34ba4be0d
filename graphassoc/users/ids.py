"""Salted hashes of user ids: the raw id stays in baskets.parquet, never in users.parquet or an export."""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path

from graphassoc.runs import write_json

SALT_FILE = Path("users") / "salt.json"


def run_salt(run_dir: Path, create: bool = True) -> str:
    """The run's salt (RUN/users/salt.json), drawn once; a different run gives different keys."""
    path = Path(run_dir) / SALT_FILE
    if path.is_file():
        return json.loads(path.read_text())["salt"]
    salt = secrets.token_hex(16)
    if create:
        path.parent.mkdir(exist_ok=True)
        write_json(path, {"salt": salt, "why": "user ids are keyed by sha256(salt + id) outside baskets.parquet"})
    return salt


def hash_user(salt: str, user_id: str) -> str:
    return hashlib.sha256(f"{salt}:{user_id}".encode()).hexdigest()[:20]
