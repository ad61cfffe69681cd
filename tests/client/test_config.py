"""Where the client connects: arguments, then the environment, then the stored login."""

from __future__ import annotations

import stat
from pathlib import Path

import lineage
from lineage.config import DEFAULT_BASE_URL, resolve_settings, store_key
from lineage.errors import error_for


def test_arguments_win_over_the_environment_over_the_stored_login(tmp_path: Path) -> None:
    env = {"LINEAGE_CONFIG_DIR": str(tmp_path)}
    assert resolve_settings(env=env).base_url == DEFAULT_BASE_URL
    assert resolve_settings(env=env).api_key is None

    path = store_key("http://stored:8000/", "lin_stored", env=env)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = resolve_settings(env=env)
    assert (stored.base_url, stored.api_key) == ("http://stored:8000", "lin_stored")

    from_env = resolve_settings(env={**env, "LINEAGE_API_KEY": "lin_env", "LINEAGE_ENTITY": "team"})
    assert (from_env.api_key, from_env.entity) == ("lin_env", "team")
    given = resolve_settings(
        api_key="lin_arg", entity="me", env={**env, "LINEAGE_API_KEY": "lin_env"}
    )
    assert (given.api_key, given.entity) == ("lin_arg", "me")


def test_a_stored_key_is_only_sent_to_its_own_server(tmp_path: Path) -> None:
    env = {"LINEAGE_CONFIG_DIR": str(tmp_path)}
    store_key("http://a:8000", "lin_a", env=env)
    store_key("http://b:8000", "lin_b", env=env)
    assert resolve_settings(env=env).api_key == "lin_b"  # the last login is the default
    assert resolve_settings(base_url="http://a:8000", env=env).api_key == "lin_a"
    assert resolve_settings(base_url="http://elsewhere:1", env=env).api_key is None
    other = resolve_settings(env={**env, "LINEAGE_BASE_URL": "http://elsewhere:1"})
    assert other.api_key is None


def test_codes_without_a_class_of_their_own_are_server_errors() -> None:
    assert isinstance(error_for("INTERNAL", "boom", "abc"), lineage.ServerError)
    assert isinstance(error_for("SOMETHING_NEW", "?"), lineage.ServerError)
    assert isinstance(error_for("QUERY_TOO_COMPLEX", "deep"), lineage.BadInput)
    error = error_for("NOT_FOUND", "artifact x not found", "0123456789abcdef")
    assert str(error) == "artifact x not found (request id 0123456789abcdef)"
