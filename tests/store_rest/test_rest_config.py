from __future__ import annotations

import ssl

import pytest

from kiln.errors import InvalidParameterValue
from kiln.store.rest import RestConfig


def test_defaults_are_mlflows() -> None:
    config = RestConfig.from_env({})
    assert (config.max_retries, config.backoff_factor, config.backoff_jitter) == (
        7,
        2,
        1,
    )
    assert config.timeout == 120 and config.respect_retry_after
    assert config.authorization() is None and config.ssl_context() is True


def test_mlflow_variables_are_read() -> None:
    config = RestConfig.from_env(
        {
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
            "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0.5",
            "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0",
            "MLFLOW_HTTP_REQUEST_TIMEOUT": "9",
            "MLFLOW_TRACKING_TOKEN": "tok",
            "MLFLOW_TRACKING_INSECURE_TLS": "true",
        }
    )
    assert config.max_retries == 3 and config.backoff_factor == 0.5
    assert config.backoff_jitter == 0 and config.timeout == 9
    assert config.authorization() == "Bearer tok"
    assert config.ssl_context() is False


def test_kiln_variables_win_over_mlflow_ones() -> None:
    config = RestConfig.from_env(
        {
            "KILN_HTTP_REQUEST_MAX_RETRIES": "1",
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "9",
            "KILN_TRACKING_USERNAME": "ada",
            "MLFLOW_TRACKING_PASSWORD": "pw",
        }
    )
    assert config.max_retries == 1
    assert config.authorization() is not None
    assert config.authorization().startswith("Basic ")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "many"),
        ("KILN_HTTP_REQUEST_TIMEOUT", "-1"),
        ("MLFLOW_TRACKING_INSECURE_TLS", "maybe"),
    ],
)
def test_bad_values_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(InvalidParameterValue, match=variable):
        RestConfig.from_env({variable: value})


def test_a_ca_bundle_gives_a_verifying_context() -> None:
    bundle = (
        ssl.get_default_verify_paths().cafile
        or ssl.get_default_verify_paths().openssl_cafile
    )
    if not bundle:
        pytest.skip("No system CA bundle file to load.")
    context = RestConfig(server_cert_path=bundle).ssl_context()
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED


def test_repr_hides_credentials() -> None:
    text = repr(RestConfig(username="ada", password="s3cret", token="tok"))
    assert "s3cret" not in text and "tok" not in text
