"""Session ids, refresh tokens and the random bytes behind them: time-ordered where they are
primary keys written on the hot path, still unguessable, and still read in their earlier forms."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import random
import re
import string
import time
import uuid

from headless_redirects.domain import entropy
from headless_redirects.domain.sessions import new_guid, new_session_id, session_id_from_short_code, short_code
from headless_redirects.service.grants.base import new_refresh_token, refresh_key
from headless_redirects.service.secrets import digest, new_ordered_secret, new_secret, ordered_digest


def test_session_ids_are_version_7_guids_in_creation_order() -> None:
    before = time.time_ns() // 1_000_000
    ids = []
    for _ in range(50):
        ids.append(new_session_id())
        time.sleep(0.001)
    after = time.time_ns() // 1_000_000
    for value in ids:
        parsed = uuid.UUID(value)
        assert parsed.version == 7 and parsed.variant == uuid.RFC_4122 and str(parsed) == value
        assert before <= int(value.replace("-", "")[:12], 16) <= after
    assert ids == sorted(ids)  # a millisecond apart: the key order is the creation order
    assert len(set(ids)) == len(ids)


def test_session_ids_keep_74_random_bits_and_their_short_code() -> None:
    ids = [new_session_id() for _ in range(2000)]  # mostly within the same few milliseconds
    assert len(set(ids)) == len(ids)
    randoms = {int(i.replace("-", ""), 16) & ((1 << 62) - 1) for i in ids}  # rand_b alone
    assert len(randoms) == len(ids)
    for value in ids[:100]:
        assert session_id_from_short_code(short_code(value)) == value


def test_other_guids_stay_random_version_4() -> None:
    values = [new_guid() for _ in range(200)]
    assert all(uuid.UUID(v).version == 4 for v in values)
    assert values != sorted(values)


def test_refresh_tokens_carry_their_issue_time_and_256_random_bits() -> None:
    before = time.time_ns() // 1_000_000
    token = new_refresh_token()
    assert re.fullmatch(r"hrr_[0-9a-f]{12}[A-Za-z0-9_-]{43}", token)
    assert before <= int(token[4:16], 16) <= time.time_ns() // 1_000_000
    key = refresh_key(token)
    # The key begins with the issue time (rows append), then 208 bits of the token's SHA-256.
    assert len(key) == 64 and key[:12] == token[4:16]
    assert key[12:] == hashlib.sha256(token.encode()).hexdigest()[:52]
    later = new_refresh_token()
    time.sleep(0.002)
    assert refresh_key(later) < refresh_key(new_refresh_token())


def test_refresh_keys_of_earlier_tokens_and_of_made_up_ones_are_plain_digests() -> None:
    earlier = new_secret("hrr_")  # what refresh tokens looked like before they were ordered
    assert refresh_key(earlier) == digest(earlier)
    for made_up in ("hrr_nope", "hrr_" + "Z" * 12 + "a" * 43, "xyz_" + "0" * 12 + "a" * 43, ""):
        assert refresh_key(made_up) == digest(made_up)
    # Changing one character of a token changes its key beyond its clock digits.
    token = new_ordered_secret("hrr_")
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert ordered_digest(forged, "hrr_")[12:] != ordered_digest(token, "hrr_")[12:]


def test_random_bytes_are_fresh_and_not_shared_with_a_forked_child() -> None:
    drawn = [entropy.random_bytes(16) for _ in range(600)]  # more than one 4 KiB page
    assert len(set(drawn)) == len(drawn) and all(len(d) == 16 for d in drawn)
    assert len(entropy.random_bytes(4096)) == 4096
    entropy.random_bytes(1)  # the parent holds a page it has not used up
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: what it draws next must not be what the parent draws next
        os.close(read)
        os.write(write, entropy.random_bytes(32))
        os._exit(0)
    os.close(write)
    child = os.read(read, 32)
    os.close(read)
    os.waitpid(pid, 0)
    assert len(child) == 32 and child != entropy.random_bytes(32)


def test_a_short_code_decodes_to_its_session_id_and_nothing_else_decodes() -> None:
    # The definition: the 16 bytes whose URL-safe base64 (unpadded) is exactly the code.
    def by_definition(code: str) -> str | None:
        try:
            raw = base64.urlsafe_b64decode(code + "==")
        except (binascii.Error, ValueError):
            return None
        if len(code) != 22 or len(raw) != 16 or base64.urlsafe_b64encode(raw)[:22].decode() != code:
            return None
        return str(uuid.UUID(bytes=raw))

    rng = random.Random(12)
    alphabet = string.ascii_letters + string.digits + "-_+/=é "
    codes = ["".join(rng.choice(alphabet) for _ in range(rng.choice((21, 22, 22, 22, 23)))) for _ in range(20000)]
    codes += [short_code(new_session_id()) for _ in range(2000)]
    codes += ["A" * 21 + c for c in string.ascii_letters + string.digits + "-_"]  # every last character
    decoded = [session_id_from_short_code(code) for code in codes]
    assert decoded == [by_definition(code) for code in codes]
    assert sum(d is not None for d in decoded) > 2000 + 4  # issued codes and the canonical last characters


def test_a_session_id_made_for_another_time_carries_that_time() -> None:
    at = 1_700_000_000_123
    made = [new_session_id(at), new_session_id(at + 1)]
    assert [int(i.replace("-", "")[:12], 16) for i in made] == [at, at + 1]
    assert all(uuid.UUID(i).version == 7 for i in made) and made[0] < made[1]
