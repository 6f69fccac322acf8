"""An erasure that starts while an import is writing waits for it, then erases what the import brought.

The import is paused after its first chunk (through its ``progress`` callback, batch size 1) while the
file's next row, ``eve.smith+news@acme.com``, is still to come; the erasure of ``eve.smith@acme.com``
starts meanwhile. Without the shared ``imports`` lock the erasure committed first and the import then
created the tagged address: the erased person was back.
"""

import threading

from sqlalchemy import select

from revteam.config import get_settings
from revteam.domain.identity import person_key
from revteam.ingest.service import run_import
from revteam.services.people.privacy import erase_person
from revteam.store.models import Contact
from tests.factories import make_contact
from tests.privacy.people import later

ONE_ROW_A_CHUNK = get_settings().model_copy(update={"import_batch_size": 1})


def test_an_erasure_during_an_import_erases_what_the_import_wrote(engine, sessions, session, tmp_path):
    make_contact(session, email="eve.smith@acme.com", first_name="Eve", last_name="Smith")
    session.commit()
    f = tmp_path / "contacts.csv"
    f.write_text("email,first_name\nbo@other.example,Bo\neve.smith+news@acme.com,Eve\n")
    paused, resume = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def progress(done: int, total: int) -> None:
        if done == 1 and not paused.is_set():
            paused.set()
            resume.wait(30)

    def importing() -> None:
        try:
            run_import(sessions, "contacts", f, now=later(1), actor="test", progress=progress,
                       settings=ONE_ROW_A_CHUNK)
        except BaseException as e:  # noqa: BLE001 - reported by the assertion below
            failures.append(e)

    def erasing() -> None:
        try:
            with sessions() as s:
                erase_person(s, "eve.smith@acme.com", now=later(2), actor="test")
        except BaseException as e:  # noqa: BLE001
            failures.append(e)

    importer = threading.Thread(target=importing)
    importer.start()
    assert paused.wait(30), "the import never reached its first chunk"
    eraser = threading.Thread(target=erasing)
    eraser.start()
    eraser.join(1.0)  # give the erasure the chance to finish first (it must wait for the import instead)
    resume.set()
    importer.join(60)
    eraser.join(60)
    assert failures == []
    with sessions() as s:
        alive = [c.email for c in s.scalars(select(Contact).where(Contact.source_system != "erased"))
                 if c.email and person_key(c.email) == "eve.smith@acme.com"]
    assert alive == []
