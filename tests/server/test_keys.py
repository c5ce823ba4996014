"""Where the server's key comes from: environment, file or (warned about) flag; never two at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from coachgraph.errors import ConfigError
from coachgraph.server.keys import check_key, resolve_api_key


def _resolve(flag: str | None = None, file: Path | None = None, env: str | None = None) -> tuple[str | None, list[str]]:
    warnings: list[str] = []
    return resolve_api_key(flag, file, env, warnings.append), warnings


def test_environment_and_private_file_give_the_key_silently(tmp_path: Path) -> None:
    assert _resolve(env="from-env") == ("from-env", [])
    file = tmp_path / "key"
    file.write_text("  from-file\n")
    file.chmod(0o600)
    assert _resolve(file=file) == ("from-file", [])
    assert _resolve() == (None, [])


def test_flag_and_shared_file_are_warned_about(tmp_path: Path) -> None:
    key, warnings = _resolve(flag="on-the-command-line")
    assert key == "on-the-command-line" and "ps" in warnings[0]
    file = tmp_path / "key"
    file.write_text("shared")
    file.chmod(0o644)
    key, warnings = _resolve(file=file)
    assert key == "shared" and "chmod 600" in warnings[0]


@pytest.mark.parametrize("given", [{"flag": "a", "env": "b"}, {"env": "b", "file": Path("k")}])
def test_two_sources_are_refused(given: dict) -> None:
    with pytest.raises(ConfigError, match="given twice"):
        _resolve(**given)


def test_unusable_keys_and_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        _resolve(file=tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(ConfigError, match="empty"):
        _resolve(file=empty)
    for bad in ("two words", "caf\u00e9", "tab\tkey"):
        with pytest.raises(ConfigError, match="printable ASCII"):
            check_key(bad, "COACHGRAPH_API_KEY")
