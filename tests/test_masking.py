from __future__ import annotations

import base64
from urllib.parse import quote

from gccheck.masking import Redactor, describe_value, is_secret_name, mask_url


def test_mask_url_hides_userinfo_only() -> None:
    assert mask_url("s3://AK:SK@host:9000/b?tls=true") == "s3://***:***@host:9000/b?tls=true"
    assert mask_url("az://:KEY@acct/c") == "az://***:***@acct/c"
    assert mask_url("s3://bucket/path") == "s3://bucket/path"


def test_redactor_hides_known_secrets_in_every_encoding() -> None:
    secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    redactor = Redactor([secret])
    for form in (secret, quote(secret, safe=""), base64.b64encode(secret.encode()).decode()):
        assert form not in redactor.redact(f"x {form} y")


def test_redactor_learns_secret_named_settings_and_url_keys() -> None:
    redactor = Redactor()
    redactor.add_settings({"AWS_SECRET_ACCESS_KEY": "topsecretvalue1",
                           "BUCKET": "s3://AKIAKEYID00000000000:urlsecret99@host/b",
                           "MYSQL": "mysql://wandb:wandbpass@mysql:3306/wandb",
                           "X_AUTH_METHOD": "true",
                           "GORILLA_ARTIFACT_GC_ENABLED": "true"})
    text = redactor.redact("topsecretvalue1 AKIAKEYID00000000000 urlsecret99 wandbpass")
    assert "topsecretvalue1" not in text and "urlsecret99" not in text
    assert "AKIAKEYID00000000000" not in text and "wandbpass" not in text
    # A user name, a short value and a flag word are not learned as secrets.
    assert redactor.redact("wandb · on-prem: true") == "wandb · on-prem: true"


def test_placeholders_in_help_text_are_not_masked() -> None:
    hint = "W&B uses s3://<key>:<secret>@host:port/bucket or az://:<url-encoded-key>@acct/c"
    assert Redactor().redact(hint) == hint


def test_secret_with_an_at_sign_is_masked_whole() -> None:
    assert mask_url("s3://K:First@Second@127.0.0.1:9/b") == "s3://***:***@127.0.0.1:9/b"


def test_redactor_masks_secret_shapes_it_was_not_told() -> None:
    redactor = Redactor()
    text = redactor.redact("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=abc123==;"
                           " and https://x/y?sv=1&sig=SIGNATURE1 and s3://K:S@h/b"
                           " -----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----")
    for leaked in ("abc123", "SIGNATURE1", "K:S@", "MIIE"):
        assert leaked not in text


def test_describe_value_hides_long_values() -> None:
    assert describe_value("yes") == "'yes'"
    assert "not shown" in describe_value("x" * 40)
    assert is_secret_name("AZURE_STORAGE_KEY") and not is_secret_name("BUCKET")
