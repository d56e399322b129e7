"""in-toto Statement v1 around the predicate: subjects and types."""

from __future__ import annotations

import hashlib

import pytest

from agentos_contracts.seal.statement import PREDICATE_TYPE, STATEMENT_TYPE, make_statement, make_subject


def test_subject_from_bytes_or_digest() -> None:
    hexdigest = hashlib.sha256(b"abc").hexdigest()
    assert make_subject("a", b"abc").sha256 == hexdigest
    assert make_subject("a", "sha256:" + hexdigest).sha256 == hexdigest
    assert make_subject("a", hexdigest).sha256 == hexdigest


@pytest.mark.parametrize("bad", ["sha256:abc", "sha256:" + "G" * 64, "sha256:" + "AB" * 32, "md5:" + "0" * 64])
def test_bad_digests_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a sha256 digest"):
        make_subject("a", bad)


def test_statement_shape_and_sorted_subjects() -> None:
    st = make_statement({"x": 1}, [make_subject("b", b"2"), make_subject("a", b"1")])
    assert st["_type"] == STATEMENT_TYPE == "https://in-toto.io/Statement/v1"
    assert st["predicateType"] == PREDICATE_TYPE
    assert [s["name"] for s in st["subject"]] == ["a", "b"]
    assert st["subject"][0]["digest"] == {"sha256": hashlib.sha256(b"1").hexdigest()}
    assert st["predicate"] == {"x": 1}


def test_statement_needs_unique_subjects() -> None:
    with pytest.raises(ValueError, match="at least one subject"):
        make_statement({}, [])
    with pytest.raises(ValueError, match="duplicate subject"):
        make_statement({}, [make_subject("a", b"1"), make_subject("a", b"2")])
