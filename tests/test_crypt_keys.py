"""JUPYTER_IDE_CRYPT_KEY takes JupyterHub's key forms as well as Fernet keys, in rotation order."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets

import pytest
from cryptography.fernet import Fernet
from jupyterhub.crypto import CryptKeeper

from jupyter_ide.ai_handlers.crypto import CryptKeyError, SecretBox, SecretsUnavailable, parse_keys

RAW = secrets.token_bytes(32)
FORMS = {
    # `openssl rand -hex 32`, the form JupyterHub's docs give for JUPYTERHUB_CRYPT_KEY
    "hex": RAW.hex(),
    "HEX": RAW.hex().upper(),
    # `openssl rand -base64 32`
    "base64": base64.b64encode(RAW).decode(),
    # Fernet.generate_key(): url-safe base64
    "fernet": base64.urlsafe_b64encode(RAW).decode(),
    "fernet without padding": base64.urlsafe_b64encode(RAW).decode().rstrip("="),
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_each_key_form_encrypts_and_decrypts(form: str) -> None:
    """Every form stands for the same 32 bytes: any form decrypts what another encrypted."""
    assert parse_keys(FORMS[form]) == [RAW]
    token = SecretBox(FORMS[form]).encrypt("sk-secret")
    for other in FORMS.values():
        assert SecretBox(other).decrypt(token) == "sk-secret"
    assert Fernet(base64.urlsafe_b64encode(RAW)).decrypt(token) == b"sk-secret"


@pytest.mark.parametrize("form", ["hex", "base64", "fernet"])
async def test_a_jupyterhub_crypt_key_means_the_same_key_to_jupyterhub(form: str) -> None:
    """The value of JUPYTERHUB_CRYPT_KEY reused here decrypts what JupyterHub encrypted."""
    keeper = CryptKeeper(keys=[FORMS[form]])
    try:
        token = await asyncio.wrap_future(keeper.encrypt({"auth_state": "x"}))
    finally:
        keeper.executor.shutdown()
    assert json.loads(SecretBox(FORMS[form]).decrypt(token)) == {"auth_state": "x"}


def test_rotation_keeps_the_order_first_key_encrypts() -> None:
    """'new;old': new secrets use the first key, old ones still decrypt, whatever the forms."""
    old, new = secrets.token_bytes(32), secrets.token_bytes(32)
    old_hex, new_b64 = old.hex(), base64.b64encode(new).decode()
    made_with_old = SecretBox(old_hex).encrypt("before")
    both = SecretBox(f" {new_b64} ; {old_hex} ;")
    assert parse_keys(f"{new_b64};{old_hex}") == [new, old]
    made_with_both = both.encrypt("after")
    assert both.decrypt(made_with_old) == "before"
    assert SecretBox(new_b64).decrypt(made_with_both) == "after"
    with pytest.raises(SecretsUnavailable):
        SecretBox(old_hex).decrypt(made_with_both)
    assert SecretBox(new_b64).decrypt(both.rotate(made_with_old)) == "before"


@pytest.mark.parametrize(
    "keys",
    [
        "not-a-key",
        secrets.token_hex(16),  # 16 bytes: too short
        secrets.token_hex(32)[:-1],  # 63 hex characters
        base64.b64encode(secrets.token_bytes(31)).decode(),
        "g" * 64,  # 64 characters, not hex
        f"{secrets.token_hex(32)};oops",
    ],
)
def test_a_bad_key_is_refused_without_showing_it(keys: str) -> None:
    """The error says which key and what form is expected, never the key itself."""
    with pytest.raises(CryptKeyError) as caught:
        SecretBox(keys)
    message = str(caught.value)
    assert "JUPYTER_IDE_CRYPT_KEY" in message and "openssl rand -hex 32" in message
    for part in keys.split(";"):
        assert part not in message
    if ";" in keys:
        assert "key 2 of 2" in message


def test_no_key_keeps_no_secrets() -> None:
    """An empty setting is allowed: storing secrets is then refused with the fix."""
    box = SecretBox(" ; ")
    assert not box.available
    with pytest.raises(SecretsUnavailable, match="JUPYTER_IDE_CRYPT_KEY"):
        box.encrypt("x")
