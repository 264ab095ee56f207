"""Passwords: argon2id with OWASP's parameters; older hashes are upgraded when their owner logs in."""
from __future__ import annotations

from argon2 import PasswordHasher

from engine import accounts
from engine.api import Engine


def test_hashes_use_argon2id_with_the_chosen_parameters(engine: Engine) -> None:
    with engine.session() as s:
        user = engine.register_citizen(s, "moi@example.com", "mat-khau-rat-dai", "Người Mới")
        assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert engine.authenticate(s, "moi@example.com", "mat-khau-rat-dai") is user
        assert engine.authenticate(s, "moi@example.com", "sai-mat-khau-nhe") is None
        assert engine.authenticate(s, "khong-co@example.com", "mat-khau-rat-dai") is None


def test_an_older_hash_is_upgraded_at_login(engine: Engine) -> None:
    with engine.session() as s:
        user = engine.register_citizen(s, "cu@example.com", "mat-khau-rat-dai", "Người Cũ")
        user.password_hash = PasswordHasher().hash("mat-khau-rat-dai")  # the library's default parameters
        s.flush()
        assert accounts.HASHER.check_needs_rehash(user.password_hash)
        assert engine.authenticate(s, "cu@example.com", "mat-khau-rat-dai") is user
        assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
