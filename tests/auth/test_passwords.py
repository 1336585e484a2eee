"""argon2id hashing with the production parameters."""

import pytest
from argon2 import PasswordHasher

from pstg.auth.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    check_password_rules,
    common_passwords,
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
    check_password_rules("pump 4 on")


@pytest.mark.parametrize(
    ("password", "username", "message"),
    [
        ("aaaaaaaaaaaa", None, "one character repeated"),
        ("############", None, "one character repeated"),
        ("password", None, "most common"),
        ("Password123!", None, "most common"),
        ("QWERTYUIOP", None, "most common"),
        ("12345678", None, "most common"),
        ("iloveyou", None, "most common"),
        ("alice-the-admin", "alice", "user name"),
        ("xxALICExx1", "Alice", "user name"),
        ("ecila1234!", "alice", "user name"),
        ("operator1", "operator", "user name"),
    ],
)
def test_weak_passwords_are_refused(password: str, username: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_password_rules(password, username)


def test_fine_passwords_pass() -> None:
    check_password_rules("correct horse battery", "alice")
    check_password_rules("wet well 3.2 m!", "ops")
    check_password_rules("alice-the-admin", "al")  # names shorter than 3 are not searched
    assert len(common_passwords()) > 150
    assert all(len(p) >= MIN_PASSWORD_LENGTH for p in common_passwords())
