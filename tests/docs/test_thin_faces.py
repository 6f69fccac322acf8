"""Faces are thin (docs/architecture.md, convention 13): ``web/`` and ``cli/`` parse input, call one use
case or ask one analytics question, and render. No commit, no query, no SQLAlchemy and no storage in them.

The check reads the source (``ast``) of every module under ``src/revteam/web`` and ``src/revteam/cli`` and
fails on:

* an import of ``sqlalchemy`` or ``revteam.store`` (inside a function too);
* a call of a session's methods by their names, on any object: ``commit``, ``rollback``, ``scalars``,
  ``scalar``, ``execute``, ``query``, ``add``, ``add_all``, ``flush``, ``merge`` (and ``expire_all``,
  ``expunge_all``, ``refresh``, ``begin``, ``begin_nested``, which only a session has);
* any method call on a name that holds a session by this code base's convention (``db``, ``session``,
  ``s``, ``sess``): a face hands its session on to a use case and never uses it itself.

Each finding names the file and the line. A file still being moved off the old way may sit in
``ALLOWED`` with the reason; the list must only hold files that still need it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FACES = (ROOT / "src" / "revteam" / "web", ROOT / "src" / "revteam" / "cli")

SESSION_METHODS = frozenset({"commit", "rollback", "scalars", "scalar", "execute", "query", "add", "add_all", "flush",
                             "merge", "expire_all", "expunge_all", "refresh", "begin", "begin_nested"})
SESSION_NAMES = frozenset({"db", "session", "s", "sess"})
FORBIDDEN_MODULES = ("sqlalchemy", "revteam.store")

# Files that still fail, each with why. Remove an entry as soon as its file passes
# (``test_the_allow_list_holds_only_files_that_still_need_it`` says when).
ALLOWED: dict[str, str] = {}


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def _forbidden_module(name: str | None) -> bool:
    return bool(name) and any(name == m or name.startswith(m + ".") for m in FORBIDDEN_MODULES)  # type: ignore[union-attr]


def check_source(source: str, path: str) -> list[Finding]:
    """Every way ``source`` (one module of a face) touches storage itself."""
    out: list[Finding] = []
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.Import):
            out += [Finding(path, node.lineno, f"imports {a.name}") for a in node.names if _forbidden_module(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _forbidden_module(node.module):
            out.append(Finding(path, node.lineno, f"imports from {node.module}"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method, owner = node.func.attr, node.func.value
            if method in SESSION_METHODS:
                out.append(Finding(path, node.lineno, f"calls .{method}() (a session's job: call a use case)"))
            elif isinstance(owner, ast.Name) and owner.id in SESSION_NAMES:
                out.append(Finding(path, node.lineno, f"calls {owner.id}.{method}() on the session (pass it to a "
                                                      "use case instead)"))
    return sorted(out, key=lambda f: (f.line, f.what))


def _face_modules() -> list[Path]:
    return sorted(p for face in FACES for p in face.rglob("*.py"))


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def findings() -> dict[str, list[Finding]]:
    found: dict[str, list[Finding]] = {}
    for path in _face_modules():
        rel = _relative(path)
        hits = check_source(path.read_text(encoding="utf-8"), rel)
        if hits:
            found[rel] = hits
    return found


def test_faces_hold_no_commit_no_query_and_no_storage() -> None:
    failing = [str(f) for rel, hits in findings().items() if rel not in ALLOWED for f in hits]
    assert not failing, ("Faces are thin: move these into a use case in revteam/services (or an analytics "
                         "question) and call it:\n" + "\n".join(failing))


def test_the_allow_list_holds_only_files_that_still_need_it() -> None:
    found = findings()
    stale = [f"{rel} ({why})" for rel, why in ALLOWED.items() if rel not in found]
    assert not stale, "These files pass now; remove them from ALLOWED in tests/docs/test_thin_faces.py:\n" + "\n".join(stale)


def test_the_checker_finds_a_planted_example() -> None:
    planted = '''
from sqlalchemy import select
import revteam.store.models as models

def page(db, request):
    rows = db.scalars(select(models.Contact))
    user = db.get(models.User, 1)
    db.commit()
    request.app.state.runtime.sessions().execute("delete from contacts")
    with request.app.state.runtime.sessions() as s:
        s.delete(user)
    return rows
'''
    got = [(f.line, f.what) for f in check_source(planted, "planted.py")]
    assert got == [
        (2, "imports from sqlalchemy"),
        (3, "imports revteam.store.models"),
        (6, "calls .scalars() (a session's job: call a use case)"),
        (7, "calls db.get() on the session (pass it to a use case instead)"),
        (8, "calls .commit() (a session's job: call a use case)"),
        (9, "calls .execute() (a session's job: call a use case)"),
        (11, "calls s.delete() on the session (pass it to a use case instead)"),
    ]
    assert str(check_source(planted, "web/pages/planted.py")[0]) == "web/pages/planted.py:2: imports from sqlalchemy"


def test_the_checker_lets_a_thin_face_through() -> None:
    thin = '''
from revteam.services.handoff.decide import accept_lead

def accept(db, me, now, handoff_id, seen):
    seen.update({handoff_id})
    return accept_lead(db, handoff_id, me, now=now)
'''
    assert check_source(thin, "thin.py") == []
