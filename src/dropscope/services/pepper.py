"""The server pepper API keys are hashed with: from the settings, or generated once.

`DROPSCOPE_KEY_PEPPER` (with `DROPSCOPE_KEY_PEPPER_VERSION`) wins. When it is unset, the
first process that needs a pepper (`dropscope serve`, `dropscope keys create`) generates 32
random bytes and writes them, with version 1, to `DROPSCOPE_KEY_PEPPER_FILE` (default
`<user data dir>/dropscope/key-pepper.json`) with mode 0600, atomically: written to a private
temporary file, then hard-linked into place, so concurrent processes agree on one pepper.
A pepper file that others may read is refused. Losing the pepper invalidates every key
(they cannot be verified any more); back it up with the database, but never in it.

Rotation: set a new pepper and version, and list the old one in `DROPSCOPE_KEY_OLD_PEPPERS`
(`{"1": "..."}`); keys hashed with it keep working until they are rolled.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
from datetime import datetime
from pathlib import Path

from dropscope.clock import Clock, system_clock
from dropscope.config import Settings
from dropscope.domain.keys import Peppers
from dropscope.errors import InvalidInput, StorageError

MIN_PEPPER_CHARS = 16


def load_peppers(
    settings: Settings, *, create: bool = True, clock: Clock = system_clock
) -> Peppers:
    """The peppers to hash and verify keys with (see the module docstring); a new pepper
    file records `clock()` as its creation time."""
    given = settings.key_pepper
    if given is not None:
        value = given.get_secret_value()
        if len(value) < MIN_PEPPER_CHARS:
            raise InvalidInput(
                f"DROPSCOPE_KEY_PEPPER must be at least {MIN_PEPPER_CHARS} characters"
            )
        version, secret = settings.key_pepper_version, value.encode()
    else:
        version, secret = _from_file(settings.key_pepper_file, create=create, clock=clock)
    known = {v: s.get_secret_value().encode() for v, s in settings.key_old_peppers.items()}
    known[version] = secret
    return Peppers(current=version, secrets=known)


def _from_file(path: Path, *, create: bool, clock: Clock) -> tuple[int, bytes]:
    if not path.exists():
        if not create:
            raise StorageError(f"no key pepper at {path} (set DROPSCOPE_KEY_PEPPER)")
        _create(path, clock())
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise StorageError(f"{path} may be read by other users; run: chmod 600 {path}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return int(doc["version"]), str(doc["pepper"]).encode()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StorageError(f"cannot read the key pepper in {path}: {exc}") from None


def _create(path: Path, now: datetime) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    doc = {
        "version": 1,
        "pepper": secrets.token_urlsafe(32),
        "created_at": now.isoformat(timespec="seconds"),
        "note": "dropscope API-key pepper: keep it secret and backed up; losing it "
        "invalidates every API key",
    }
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(doc, out)
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):  # another process won the race: use its
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
