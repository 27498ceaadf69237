"""Secrets at rest: encrypted with the first key, readable with any, rotated."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from slotwise import config, crypto

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_a_secret_round_trips_and_is_not_stored_as_it_was(settings):
    settings.SLOTWISE_ENCRYPTION_KEYS = [NEW]
    token = crypto.encrypt("https://calendar.example.com/private-abc123/basic.ics")
    assert "abc123" not in token
    assert crypto.decrypt(token) == "https://calendar.example.com/private-abc123/basic.ics"
    assert crypto.encrypt("") == "" == crypto.decrypt("")


def test_a_rotated_key_still_reads_old_secrets_and_reencrypts_them(settings):
    settings.SLOTWISE_ENCRYPTION_KEYS = [OLD]
    old_token = crypto.encrypt("secret")
    settings.SLOTWISE_ENCRYPTION_KEYS = [NEW, OLD]
    assert crypto.decrypt(old_token) == "secret"
    new_token = crypto.reencrypt(old_token)
    settings.SLOTWISE_ENCRYPTION_KEYS = [NEW]
    assert crypto.decrypt(new_token) == "secret"
    with pytest.raises(crypto.CannotDecrypt):
        crypto.decrypt(old_token)


def test_without_keys_the_secret_key_derives_one(settings):
    settings.SLOTWISE_ENCRYPTION_KEYS = []
    token = crypto.encrypt("secret")
    settings.SLOTWISE_ENCRYPTION_KEYS = [crypto.derived_key(settings.SECRET_KEY)]
    assert crypto.decrypt(token) == "secret"


def test_keys_come_from_the_environment_and_must_be_fernet_keys():
    assert config.encryption_keys({"SLOTWISE_ENCRYPTION_KEYS": f"{NEW}, {OLD}"}) == [NEW, OLD]
    assert config.encryption_keys({}) == []
    with pytest.raises(ImproperlyConfigured, match="Fernet keys"):
        config.encryption_keys({"SLOTWISE_ENCRYPTION_KEYS": "not-a-key"})
