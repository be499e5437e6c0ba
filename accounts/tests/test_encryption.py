import os
import subprocess
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts import crypto
from accounts.models import User
from accounts.services import profile_complete

KEY1 = "11" * 32
KEY2 = "22" * 32
ADDRESS = {
    "full_name": "Rotation Tester",
    "address1": "1600 Quillfeather Ave",
    "address2": "",
    "city": "Seattle",
    "state": "WA",
    "zip": "98765-4321",
}


def _rotate() -> str:
    out = StringIO()
    call_command("rotate_encryption_key", "--batch-size", "2", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_rotate_from_key_1_to_key_2_then_read_with_only_key_2(settings, user_factory):
    # given five addresses sealed with key 1 (and one user without an address)
    settings.PROFILE_ENCRYPTION_KEYS = f"1:{KEY1}"
    users = [user_factory(address={**ADDRESS, "zip": f"9876{i}"}) for i in range(5)]
    user_factory()
    assert all(u.shipping_address_encrypted.startswith("v1:") for u in users)

    # when key 2 becomes current and the command runs
    settings.PROFILE_ENCRYPTION_KEYS = f"2:{KEY2},1:{KEY1}"
    output = _rotate()

    # then every row is on key 2 and readable without key 1
    assert "accounts.User.shipping_address_encrypted: rotated=5 already_current=0 failed=0" in (
        output
    )
    settings.PROFILE_ENCRYPTION_KEYS = f"2:{KEY2}"
    for i, user in enumerate(users):
        user.refresh_from_db()
        assert user.shipping_address_encrypted.startswith("v2:")
        assert user.address_key_version == 2
        assert user.shipping_address == {**ADDRESS, "zip": f"9876{i}"}


@pytest.mark.django_db
def test_rotation_is_idempotent(settings, user_factory):
    settings.PROFILE_ENCRYPTION_KEYS = f"1:{KEY1}"
    user = user_factory(address=ADDRESS)
    settings.PROFILE_ENCRYPTION_KEYS = f"2:{KEY2},1:{KEY1}"
    _rotate()
    user.refresh_from_db()
    first = user.shipping_address_encrypted
    output = _rotate()
    assert "rotated=0 already_current=1 failed=0" in output
    user.refresh_from_db()
    assert user.shipping_address_encrypted == first


@pytest.mark.django_db
def test_rotation_refuses_without_a_current_key(settings):
    settings.PROFILE_ENCRYPTION_KEYS = ""
    with pytest.raises(CommandError, match="현재 암호화 키가 없습니다"):
        _rotate()


@pytest.mark.django_db
def test_rows_with_an_unknown_key_are_reported_and_others_still_rotate(settings, user_factory):
    settings.PROFILE_ENCRYPTION_KEYS = f"3:{'33' * 32}"
    orphan = user_factory(address=ADDRESS)
    settings.PROFILE_ENCRYPTION_KEYS = f"1:{KEY1}"
    fine = user_factory(address=ADDRESS)
    settings.PROFILE_ENCRYPTION_KEYS = f"2:{KEY2},1:{KEY1}"
    with pytest.raises(CommandError, match="1개 행을 복호화하지 못했습니다"):
        _rotate()
    fine.refresh_from_db()
    orphan.refresh_from_db()
    assert fine.shipping_address_encrypted.startswith("v2:")
    assert orphan.shipping_address_encrypted.startswith("v3:")


def test_registry_can_be_extended():
    before = list(crypto.ENCRYPTED_FIELDS)
    try:
        crypto.register_encrypted_field("orders.Order", "address_snapshot_encrypted")
        crypto.register_encrypted_field("orders.Order", "address_snapshot_encrypted")
        assert crypto.ENCRYPTED_FIELDS.count(("orders.Order", "address_snapshot_encrypted")) == 1
        assert ("accounts.User", "shipping_address_encrypted") in crypto.ENCRYPTED_FIELDS
    finally:
        crypto.ENCRYPTED_FIELDS[:] = before


def test_tampered_ciphertext_is_rejected(settings):
    settings.PROFILE_ENCRYPTION_KEYS = f"1:{KEY1}"
    token = crypto.encrypt_json(ADDRESS)
    assert crypto.decrypt_json(token) == ADDRESS
    tampered = token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_text(tampered)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_text("v1:not base64!!")
    # A token of version 1 cannot be passed off as version 2 (the version is authenticated).
    settings.PROFILE_ENCRYPTION_KEYS = f"2:{KEY1}"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_text("v2:" + token.partition(":")[2])


@pytest.mark.django_db(transaction=True)
def test_database_dump_contains_no_plaintext_address(user_factory):
    # given a profile saved the normal way
    user = user_factory(name="")
    profile_complete(
        user=user,
        data={
            **ADDRESS,
            "email": user.email,
            "depositor_name": "덤프테스트",
            "instagram_id": "dump.test",
            "phone": "",
        },
    )
    assert User.objects.get(pk=user.pk).shipping_address["address1"] == ADDRESS["address1"]

    # when the test database is dumped with pg_dump
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    dump = subprocess.run(
        [
            "pg_dump",
            "--no-owner",
            "-h",
            db.get("HOST") or "127.0.0.1",
            "-p",
            str(db.get("PORT") or 5432),
            "-U",
            db["USER"],
            db["NAME"],
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout

    # then the dump has the user but not the street, city line or ZIP
    assert "덤프테스트" in dump  # the dump really holds the user's row
    assert "Quillfeather" not in dump
    assert "98765" not in dump
    assert "Rotation Tester" not in dump
