"""Which YAML documents are ours: `agentos/...` and the custom-resource group `agentos.dev/...`."""

from __future__ import annotations

import pytest

from agentos_contracts.documents.foreign import foreign_reason, mentions_agentos


@pytest.mark.parametrize("data", [{"apiVersion": "agentos/v0.2"}, {"apiVersion": "agentos.dev/v1alpha1", "kind": "X"}])
def test_ours(data: object) -> None:
    assert foreign_reason(data) is None


@pytest.mark.parametrize("data, reason", [
    ({"repos": []}, "no `apiVersion`"),
    ({"apiVersion": "v1"}, "`apiVersion: v1`"),
    ({"apiVersion": "agentosx/v1"}, "`apiVersion: agentosx/v1`"),
    ([1, 2], "not a mapping"),
    ("text", "not a mapping"),
])
def test_not_ours(data: object, reason: str) -> None:
    found = foreign_reason(data)
    assert found is not None and reason in found


def test_unparseable_text_that_claims_to_be_ours_is_still_checked() -> None:
    assert mentions_agentos("apiVersion: agentos/v0.2\nkind: [\n")
    assert mentions_agentos('"apiVersion": "agentos.dev/v1"\n')
    assert not mentions_agentos("image: {{ .Values.x }}\napiVersion: v2\n")
