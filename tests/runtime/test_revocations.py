"""The revocation list parser: anything but a well-formed list signed by a trusted key is refused, never a crash."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from agentos_contracts.runtime import revocations as rev
from agentos_contracts.seal import dsse, keys

KEY = keys.generate_private_key()
PUB = KEY.public_key()
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                        max_size=4), max_leaves=12)


@given(st.binary(max_size=200))
@settings(max_examples=200, deadline=None)
def test_arbitrary_bytes_are_refused_with_ac770(raw: bytes) -> None:
    try:
        rev.parse(raw, [PUB])
    except rev.RevocationError as exc:
        assert exc.code == "AC770"


@given(json_values)
@settings(max_examples=300, deadline=None)
def test_any_signed_payload_is_a_valid_list_or_refused(doc) -> None:  # type: ignore[no-untyped-def]
    raw = dsse.dump(dsse.sign(rev.PAYLOAD_TYPE, json.dumps(doc).encode(), [KEY]))
    try:
        listing = rev.parse(raw, [PUB])
    except rev.RevocationError as exc:
        assert exc.code == "AC770"
        return
    assert isinstance(listing.sequence, int) and all(d.startswith("sha256:") for d in listing.revoked)


@given(st.lists(st.sampled_from(["pause", "resume", "revoke"]), max_size=12),
       st.lists(st.sampled_from(["sha256:" + c * 64 for c in "abc"]), min_size=12, max_size=12))
@settings(max_examples=200, deadline=None)
def test_changes_round_trip_and_revocation_is_final(actions, digests) -> None:  # type: ignore[no-untyped-def]
    listing = rev.Revocations()
    revoked: set[str] = set()
    for action, digest in zip(actions, digests):
        try:
            listing = listing.changed(**{action: [digest]})
        except rev.RevocationError as exc:
            assert exc.code == "AC774" and digest in revoked and action in ("pause", "resume")
            continue
        if action == "revoke":
            revoked.add(digest)
        assert rev.parse(rev.dump(listing, KEY), [PUB]) == listing  # what is written is what is read
    assert set(listing.revoked) == revoked and not set(listing.paused) & revoked


def test_a_list_signed_by_another_key_is_refused() -> None:
    raw = rev.dump(rev.Revocations(sequence=1), keys.generate_private_key())
    try:
        rev.parse(raw, [PUB])
    except rev.RevocationError as exc:
        assert "not signed by a trusted key" in str(exc)
    else:
        raise AssertionError("an untrusted list was accepted")


def test_entries_of_the_wrong_shape_are_refused() -> None:
    for entries in ([{"digest": ["sha256:x"]}], [{"digest": "sha256:" + "a" * 64, "reason": 3}], ["sha256:a"],
                    [{"digest": "sha256:" + "a" * 64}, {"digest": "sha256:" + "a" * 64}]):
        doc = {"apiVersion": rev.API_VERSION, "kind": "Revocations", "sequence": 1, "revoked": entries}
        raw = dsse.dump(dsse.sign(rev.PAYLOAD_TYPE, json.dumps(doc).encode(), [KEY]))
        try:
            rev.parse(raw, [PUB])
        except rev.RevocationError as exc:
            assert exc.code == "AC770"
        else:
            raise AssertionError(f"accepted {entries}")
