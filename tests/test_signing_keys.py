"""The signing-key folder as the processes of purchase share it: what one process signs with, every process
already publishes."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from subgraphs._common import keys
from subgraphs._common.keys import KeyFolder
from subgraphs.purchase.signing import Signer


def test_a_key_added_is_published_at_once_by_a_process_that_looked_at_the_folder_a_moment_ago(
    tmp_path: Path,
) -> None:
    first = keys.add_key(tmp_path)
    signing, publishing = Signer(KeyFolder(tmp_path)), Signer(KeyFolder(tmp_path))
    assert [jwk["kid"] for jwk in publishing.jwks()["keys"]] == [first]
    added = keys.add_key(tmp_path)
    # The other process signs with the new key (it looked at the folder after the operator's command) ...
    assert signing.folder.current().signing_kid == added
    # ... and a verifier that meets that kid fetches the JWKS from this one, within its second of caching.
    assert [jwk["kid"] for jwk in publishing.jwks()["keys"]] == [first, added]


def test_a_key_published_ahead_is_in_the_jwks_at_once_and_signs_only_from_its_time(tmp_path: Path) -> None:
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    first = keys.add_key(tmp_path, now=now - timedelta(days=1), publish_for=timedelta(minutes=2))
    # The first key signs at once: with none signing, waiting would leave nothing to sign with.
    assert keys.list_keys(tmp_path)[0].signs_from == now - timedelta(days=1)
    added = keys.add_key(tmp_path, now=now, publish_for=timedelta(minutes=2))
    loaded = KeyFolder(tmp_path).current()
    assert [jwk["kid"] for jwk in loaded.jwks["keys"]] == [first, added]
    signs = {
        offset: loaded.signing_at(now + timedelta(seconds=offset)).kid  # type: ignore[union-attr]
        for offset in (0, 119, 120, 3600)
    }
    assert signs == {0: first, 119: first, 120: added, 3600: added}
    old, new = keys.list_keys(tmp_path)
    assert old.stopped_signing_at == new.signs_from == now + timedelta(minutes=2)


def test_a_key_that_still_signs_or_will_until_later_cannot_be_retired(tmp_path: Path) -> None:
    first = keys.add_key(tmp_path)
    with pytest.raises(keys.KeyProblem, match="still signs"):
        keys.retire_key(tmp_path, first, token_life=timedelta(minutes=10), force=True)
    keys.add_key(tmp_path, publish_for=timedelta(minutes=2))
    # It signs for two more minutes: even --force waits (it would leave nothing signing).
    with pytest.raises(keys.KeyProblem, match="still signs"):
        keys.retire_key(tmp_path, first, token_life=timedelta(minutes=10), force=True)
    assert first in {key.kid for key in keys.list_keys(tmp_path)}


def test_a_record_written_before_keys_were_published_ahead_reads_as_signing_since_added(
    tmp_path: Path,
) -> None:
    kid = keys.add_key(tmp_path)
    record = json.loads((tmp_path / keys.RECORD).read_text())
    for entry in record["keys"]:
        del entry["signs_from"]
    (tmp_path / keys.RECORD).write_text(json.dumps(record))
    (key,) = keys.list_keys(tmp_path)
    assert key.signs_from == key.added_at and KeyFolder(tmp_path).current().signing_kid == kid
