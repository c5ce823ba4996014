"""Where the server's API key comes from: an environment variable or a file, not the command line.

A key given as a command-line flag is visible to every user of the machine (`ps`, shell
history), so it is accepted only with a warning.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

from coachgraph.errors import ConfigError

__all__ = ["API_KEY_ENV", "API_KEY_FILE_ENV", "check_key", "read_key_file", "resolve_api_key"]

API_KEY_ENV = "COACHGRAPH_API_KEY"
"""Environment variable holding the bearer API key (unset or empty: no key required)."""
API_KEY_FILE_ENV = "COACHGRAPH_API_KEY_FILE"
"""Environment variable naming a file that holds the key (same as `--api-key-file`)."""


def check_key(key: str, source: str) -> str:
    """`key` when it can travel in an `Authorization: Bearer` header, else `ConfigError`.

    >>> check_key("s3cret-Key_1", "COACHGRAPH_API_KEY")
    's3cret-Key_1'
    """
    if not key.isascii() or not key.isprintable() or " " in key:
        raise ConfigError(f"{source}: the API key must be printable ASCII without spaces")
    return key


def read_key_file(path: Path, warn: Callable[[str], None]) -> str:
    """The key in `path` (surrounding whitespace dropped); warns when others may read the file."""
    try:
        text = path.read_text(encoding="utf-8").strip()
        mode = path.stat().st_mode
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the API key file ({exc})") from None
    if not text:
        raise ConfigError(f"{path}: the API key file is empty")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        warn(f"{path}: other users may read this API key file; `chmod 600 {path}` keeps it private")
    return check_key(text, str(path))


def resolve_api_key(flag: str | None, file: Path | None, env: str | None,
                    warn: Callable[[str], None]) -> str | None:
    """The key from exactly one of: the environment, a file, the flag (warned about); or None.

    Raises:
        ConfigError: more than one source gives a key, or the key cannot be used.
    """
    given = [name for name, value in (("--api-key", flag), ("--api-key-file", file), (API_KEY_ENV, env)) if value]
    if len(given) > 1:
        raise ConfigError(f"the API key is given twice ({' and '.join(given)}); give it one way")
    if flag:
        warn(f"--api-key shows the key to every user of this machine (ps, shell history); "
             f"set {API_KEY_ENV} or use --api-key-file instead")
        return check_key(flag, "--api-key")
    if file is not None:
        return read_key_file(file, warn)
    return check_key(env, API_KEY_ENV) if env else None
