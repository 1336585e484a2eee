"""Roles and the two token formats, without a database."""

import warnings
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning

from pstg.auth.roles import ROLE_NAMES, Role
from pstg.auth.tokens import (
    ALGORITHM,
    InvalidToken,
    decode_access_token,
    encode_access_token,
    hash_api_token,
    is_api_token,
    new_api_token,
)
from tests.auth.conftest import SECRET

ISSUED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_roles_are_ordered_and_named() -> None:
    assert Role.VIEWER < Role.OPERATOR < Role.ENGINEER < Role.ADMIN
    assert ROLE_NAMES == ("viewer", "operator", "engineer", "admin")
    assert str(Role.ENGINEER) == Role.ENGINEER.label == "engineer"


@pytest.mark.parametrize(
    ("text", "role"),
    [("viewer", Role.VIEWER), ("Operator", Role.OPERATOR), (" ADMIN ", Role.ADMIN)],
)
def test_role_parse(text: str, role: Role) -> None:
    assert Role.parse(text) is role


@pytest.mark.parametrize("text", ["", "root", "1", "view"])
def test_role_parse_lists_the_names(text: str) -> None:
    with pytest.raises(ValueError, match="use one of viewer, operator, engineer, admin"):
        Role.parse(text)


def encode(**overrides: object) -> str:
    arguments: dict[str, object] = {
        "secret": SECRET,
        "username": "ann",
        "user_id": 7,
        "token_key": "0" * 32,
        "role": Role.OPERATOR,
        "issued_at": ISSUED,
        "lifetime": timedelta(minutes=15),
    }
    return encode_access_token(**{**arguments, **overrides})  # type: ignore[arg-type]


def test_access_token_round_trip() -> None:
    claims = decode_access_token(encode(), secret=SECRET)
    assert (claims.username, claims.user_id, claims.role) == ("ann", 7, Role.OPERATOR)
    assert claims.issued_at == ISSUED
    assert claims.expires_at == ISSUED + timedelta(minutes=15)
    assert claims.token_id != decode_access_token(encode(), secret=SECRET).token_id


def test_an_expired_token_still_decodes_the_caller_checks_the_time() -> None:
    old = encode(issued_at=datetime(2001, 1, 1, tzinfo=UTC))
    assert decode_access_token(old, secret=SECRET).expires_at.year == 2001


def forged(claims: dict[str, object], key: str = SECRET, algorithm: str = ALGORITHM) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)  # HS512 with our key
        return jwt.encode(claims, key, algorithm=algorithm)


VALID = {"sub": "ann", "uid": 7, "role": "viewer", "iat": 1, "exp": 2, "jti": "x"}


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("garbage", id="garbage"),
        pytest.param("a.b.c", id="three-dots"),
        pytest.param(forged(VALID, key="another-secret-of-sufficient-length!!"), id="wrong-key"),
        pytest.param(forged(VALID, algorithm="HS512"), id="other-algorithm"),
        pytest.param(jwt.encode(VALID, None, algorithm="none"), id="alg-none"),
        pytest.param(forged({**VALID, "uid": "7"}), id="uid-string"),
        pytest.param(forged({**VALID, "uid": True}), id="uid-bool"),
        pytest.param(forged({**VALID, "role": "root"}), id="unknown-role"),
        pytest.param(forged({**VALID, "exp": 10**20}), id="exp-overflow"),
        pytest.param(forged({k: v for k, v in VALID.items() if k != "jti"}), id="no-jti"),
        pytest.param(forged({k: v for k, v in VALID.items() if k != "exp"}), id="no-exp"),
    ],
)
def test_invalid_access_tokens(token: str) -> None:
    with pytest.raises(InvalidToken):
        decode_access_token(token, secret=SECRET)


def test_a_tampered_payload_fails_the_signature() -> None:
    header, _payload, signature = encode().split(".")
    _other_header, other_payload, _ = encode(role=Role.ADMIN).split(".")
    with pytest.raises(InvalidToken):
        decode_access_token(f"{header}.{other_payload}.{signature}", secret=SECRET)


def test_api_tokens_are_random_prefixed_and_stored_as_sha256() -> None:
    token, token_hash = new_api_token()
    assert token.startswith("pstg_")
    assert len(token) == 5 + 43
    assert is_api_token(token)
    assert not is_api_token(encode())
    assert token_hash == hash_api_token(token)
    assert len(token_hash) == 64
    assert token not in token_hash
    assert new_api_token()[0] != token
