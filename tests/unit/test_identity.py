"""Identity: one person per mailbox, however the address was typed, pasted or exported."""

import pytest

from revteam.domain.identity import normalise_domain, normalise_email, person_digest, person_key


@pytest.mark.parametrize("raw", [
    " Ana@ACME.com ",
    "ana\u200b@acme.com",          # zero-width space from a copy-paste
    "\ufeffana@acme.com",          # byte-order mark at the start of an export
    "ａｎａ＠ａｃｍｅ．ｃｏｍ",      # full-width characters
    "an\u00ada@acme.com",          # soft hyphen
    "ana@acme.com.",               # the fully-qualified domain with its trailing dot
])
def test_every_spelling_of_one_mailbox_is_one_address(raw):
    assert normalise_email(raw) == "ana@acme.com"


def test_plus_tag_is_kept_for_identity_but_not_for_erasure():
    assert normalise_email("ana+news@acme.com") == "ana+news@acme.com"
    assert person_key("Ana+News@acme.com") == "ana@acme.com"
    assert person_digest("ana+crm@acme.com") == person_digest("ANA@acme.com")
    assert person_digest("bo@acme.com") != person_digest("ana@acme.com")


@pytest.mark.parametrize("raw", ["ana at acme", "a\x00b@acme.com", "ana@acme.com\x07", "an\ud800a@acme.com"])
def test_malformed_address_is_refused_with_what_to_do(raw):
    with pytest.raises(ValueError, match="expected name@company.com"):
        normalise_email(raw)


def test_full_width_domain_is_normalised():
    assert normalise_domain("ｗｗｗ．ａｃｍｅ．ｃｏｍ") == "acme.com"


@pytest.mark.parametrize("raw", ['"ana"@acme.com', '"ana smith"@acme.com', 'ana."x"@acme.com'])
def test_a_quoted_local_part_is_refused_with_a_message(raw):
    with pytest.raises(ValueError, match="quoted name before the @"):
        normalise_email(raw)
