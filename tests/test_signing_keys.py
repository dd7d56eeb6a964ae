"""The signing-key folder as the processes of purchase share it: what one process signs with, every process
already publishes."""

from pathlib import Path

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
