"""Message catalogues and the reader's language: Italian first, English beside it.

Catalogues are YAML files `messages/<lang>/<section>.yaml`; a key `title` in
`dati.yaml` is `dati.title`. A section adds its strings by adding its own file
in both languages (tests check that both hold the same keys). Values are
`str.format` templates: `_("dati.rows", n=3)`.

The language of a request: the `/en` path prefix, else `?lang=`, else the
`lang` cookie, else Italian. An explicit choice (prefix or `?lang=`) is
remembered in the cookie.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Mapping

import yaml

LANGUAGES = ("it", "en")
DEFAULT = "it"
PREFIXES = {"en": "/en"}  # Italian pages have no prefix
COOKIE = "lang"
MESSAGES = Path(__file__).parent / "messages"


@lru_cache(maxsize=None)
def catalogue(lang: str, root: Path = MESSAGES) -> Mapping[str, str]:
    """Every message of `lang`, keyed `<section>.<key>` (nested keys joined with dots)."""
    out: dict[str, str] = {}
    for path in sorted((root / lang).glob("*.yaml")):
        _flatten(path.stem, yaml.safe_load(path.read_text(encoding="utf-8")) or {}, out)
    return out


def _flatten(prefix: str, node, out: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}", value, out)
    else:
        out[prefix] = str(node)


def translate(lang: str, key: str, **params) -> str:
    """The message `key` in `lang` (Italian, then the key itself, when missing), formatted with `params`."""
    text = catalogue(lang).get(key) or catalogue(DEFAULT).get(key) or key
    return text.format(**params) if params else text


def both(key: str, **params) -> dict[str, str]:
    """The message in every language, e.g. for an error that must be read by anyone."""
    return {lang: translate(lang, key, **params) for lang in LANGUAGES}


def split_prefix(path: str) -> tuple[str | None, str]:
    """('en', '/dati') for '/en/dati'; (None, path) when the path has no language prefix."""
    for lang, prefix in PREFIXES.items():
        if path == prefix or path.startswith(prefix + "/"):
            return lang, path[len(prefix):] or "/"
    return None, path


def choose(prefix_lang: str | None, query_lang: str | None, cookie_lang: str | None) -> tuple[str, bool]:
    """The request's language and whether it was chosen explicitly (to remember in the cookie)."""
    if prefix_lang in LANGUAGES:
        return prefix_lang, True
    if query_lang in LANGUAGES:
        return query_lang, True
    if cookie_lang in LANGUAGES:
        return cookie_lang, False
    return DEFAULT, False


def localized(lang: str, path: str) -> str:
    """`path` as seen by a reader of `lang` ('/dati' → '/en/dati')."""
    return PREFIXES.get(lang, "") + path if path.startswith("/") else path


def number(value, lang: str, decimals: int = 0) -> str:
    """A number with the language's separators: 12.345,6 in Italian, 12,345.6 in English."""
    if value is None:
        return "–"
    text = f"{value:,.{decimals}f}"
    if lang == "it":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def size(n_bytes: int, lang: str) -> str:
    """A file size in kB/MB/GB (decimal units)."""
    for unit, factor in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= factor:
            return f"{number(n_bytes / factor, lang, 1)} {unit}"
    return f"{n_bytes} B"
