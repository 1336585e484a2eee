"""argon2id hashing with the production parameters."""

import pytest
from argon2 import PasswordHasher

from pstg.auth.passwords import (
    MAX_PASSWORD_LENGTH,
    check_password_rules,
    dummy_hash,
    hash_password,
    needs_rehash,
    verify_password,
)


def test_hash_and_verify() -> None:
    first = hash_password("correct horse")
    assert first.startswith("$argon2id$")
    assert first != hash_password("correct horse")  # salted
    assert verify_password(first, "correct horse")
    assert not verify_password(first, "correct horsE")
    assert not verify_password(first, "")
    assert not needs_rehash(first)


def test_damaged_hashes_and_huge_passwords_do_not_verify() -> None:
    assert not verify_password("not a hash", "whatever")
    assert not verify_password(dummy_hash(), "x" * (MAX_PASSWORD_LENGTH + 1))


def test_hashes_with_older_parameters_need_a_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1).hash("correct horse")
    assert verify_password(weak, "correct horse")
    assert needs_rehash(weak)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "at least 8"),
        ("1234567", "at least 8"),
        ("x" * (MAX_PASSWORD_LENGTH + 1), "at most 1024"),
    ],
)
def test_password_rules(password: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_password_rules(password)
    check_password_rules("12345678")
