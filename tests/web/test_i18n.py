"""Message catalogues: both languages hold the same keys and placeholders; language choice and number formats."""

from __future__ import annotations

import string

from iotorino.web import i18n


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_italian_and_english_have_the_same_keys_and_placeholders():
    italian, english = i18n.catalogue("it"), i18n.catalogue("en")
    assert set(italian) == set(english)
    assert {k: placeholders(v) for k, v in italian.items()} == {k: placeholders(v) for k, v in english.items()}


def test_language_negotiation_order_is_prefix_then_query_then_cookie_then_italian():
    assert i18n.split_prefix("/en/dati") == ("en", "/dati")
    assert i18n.split_prefix("/en") == ("en", "/")
    assert i18n.split_prefix("/enigma") == (None, "/enigma")
    assert i18n.choose("en", "it", "it") == ("en", True)
    assert i18n.choose(None, "en", "it") == ("en", True)
    assert i18n.choose(None, "xx", "en") == ("en", False)
    assert i18n.choose(None, None, None) == ("it", False)


def test_numbers_and_sizes_follow_the_language():
    assert i18n.number(12345.678, "it", 1) == "12.345,7"
    assert i18n.number(12345.678, "en", 1) == "12,345.7"
    assert i18n.size(2_500_000, "it") == "2,5 MB"
    assert i18n.translate("en", "dati.n_days", n=3) == "3 days"
