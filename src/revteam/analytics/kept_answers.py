"""The desk's answers kept between starts, beside the kept snapshot: a restart on unchanged data answers every
question the last process had answered from memory, at once.

Why
    At 10x the demo company several answers take tens of seconds to compute on two cores (attribution at
    campaign grain, conversions to SQL at content grain), longer than a first page may take after a
    restart. The data usually did not change while the server was down; then those answers are still right.

What is kept
    One file, ``answers.pickle``, in the kept snapshot's folder (``snapshot_store.SnapshotStore.folder``):
    a header (the data fingerprint the answers were computed under, the database's epoch, a digest of the
    analytics and domain code that computed them) and the answers by question, signed with an HMAC of
    ``REVTEAM_SECRET_KEY`` so that a file nobody signed is never unpickled. Loaded only when the header
    matches the data and code as they are now; anything else (another fingerprint, epoch or code, a bad
    signature, an unreadable file) is ignored and the answers are computed as before.

When
    ``AnswerCache`` asks ``load`` the first time it sees a fingerprint, and ``save`` at most every
    ``SAVE_EVERY_SECONDS`` when it kept new answers (a few MB, written aside and renamed); what is still
    unsaved when the process exits is written then.
"""

from __future__ import annotations

import atexit
import hashlib
import hmac
import logging
import os
import pickle
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Engine as SqlEngine

log = logging.getLogger("revteam.snapshot")
SAVE_EVERY_SECONDS = 20.0
_CODE: list[str] = []


def code_digest() -> str:
    """A digest of the code that computes answers (analytics/ and domain/): new code, new answers."""
    if not _CODE:
        root = Path(__file__).resolve().parents[1]
        h = hashlib.sha256()
        for path in sorted([*root.joinpath("analytics").glob("*.py"), *root.joinpath("domain").glob("*.py")]):
            h.update(path.name.encode() + path.read_bytes())
        _CODE.append(h.hexdigest()[:16])
    return _CODE[0]


class KeptAnswers:
    def __init__(self, folder: Path, engine: SqlEngine, secret: str) -> None:
        self.folder = folder
        self.engine = engine
        self.secret = secret.encode()
        self._saved_at = 0.0
        self._lock = threading.Lock()
        self._latest: tuple[Any, dict[Any, Any]] | None = None  # what a deferred save writes
        self._timer: threading.Timer | None = None
        self._at_exit = False

    def _epoch(self) -> int:
        from revteam.store.data_versions import database_epoch

        with self.engine.begin() as conn:
            return database_epoch(conn)

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self.secret, payload, hashlib.sha256).digest()

    def load(self, fingerprint: Any) -> dict[Any, Any]:
        path = self.folder / "answers.pickle"
        try:
            data = path.read_bytes()
        except OSError:
            return {}
        signature, payload = data[:32], data[32:]
        if not hmac.compare_digest(signature, self._sign(payload)):
            log.warning("kept answers in %s are not signed with this secret key: not used", self.folder)
            return {}
        try:
            header, answers = pickle.loads(payload)  # noqa: S301 - signed by this installation's secret key
        except Exception as e:  # noqa: BLE001 - a cache: any failure means "compute again"
            log.warning("kept answers in %s are unreadable (%s): not used", self.folder, e)
            return {}
        if header != (fingerprint, self._epoch(), code_digest()):
            return {}
        log.info("analytics: %d answers kept from the last run used (the data did not change)", len(answers))
        return answers

    def save(self, fingerprint: Any, answers: dict[Any, Any], *, force: bool = False) -> None:
        """Write ``answers`` (computed under ``fingerprint``), at most every ``SAVE_EVERY_SECONDS`` unless ``force``;
        a save asked sooner is done when the interval is over (a daemon timer), with the latest answers."""
        now = time.monotonic()
        with self._lock:
            self._latest = (fingerprint, answers)
            wait = SAVE_EVERY_SECONDS - (now - self._saved_at)
            if not force and wait > 0:
                if not self._at_exit:  # a server stopped before the timer fires still keeps its last answers
                    atexit.register(self._deferred)
                    self._at_exit = True
                if self._timer is None:
                    self._timer = threading.Timer(wait, self._deferred)
                    self._timer.daemon = True
                    self._timer.start()
                return
            self._latest = None
        self._write(fingerprint, answers)

    def _deferred(self) -> None:
        with self._lock:
            self._timer = None
            latest, self._latest = self._latest, None
        if latest is not None:
            self._write(*latest)

    def _write(self, fingerprint: Any, answers: dict[Any, Any]) -> None:
        with self._lock:
            self._saved_at = time.monotonic()
            try:
                payload = pickle.dumps(((fingerprint, self._epoch(), code_digest()), answers),
                                       protocol=pickle.HIGHEST_PROTOCOL)
                self.folder.mkdir(parents=True, exist_ok=True)
                aside = self.folder / f".answers.{uuid.uuid4().hex}.part"
                aside.write_bytes(self._sign(payload) + payload)
                os.replace(aside, self.folder / "answers.pickle")
            except Exception as e:  # noqa: BLE001 - unpicklable answer, full disk: the answers stay in memory
                log.warning("could not keep the analytics answers: %s", e)


def kept_answers_for(engine: SqlEngine) -> KeptAnswers | None:
    """Beside the kept snapshot (``REVTEAM_KEEP_SNAPSHOT``, ``REVTEAM_SNAPSHOT_DIR``); None when nothing is kept."""
    from revteam.analytics.snapshot_store import SnapshotStore
    from revteam.config import get_settings

    settings = get_settings()
    if not settings.keep_snapshot:
        return None
    folder = SnapshotStore(settings.snapshot_dir or None).folder(engine)
    return None if folder is None else KeptAnswers(folder, engine, settings.secret_key)
