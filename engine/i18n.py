"""Bilingual texts: every text a designer writes is a mapping ``{"vi": …, "en": …}``."""
from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

LANGUAGES = ("vi", "en")
Text = Mapping[str, str]


def tr(text: Any, lang: str = "vi") -> str:
    """Pick ``lang`` from a bilingual text, falling back to Vietnamese, then to anything."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    return text.get(lang) or text.get("vi") or next(iter(text.values()), "")


def text(vi: str, en: str) -> dict[str, str]:
    return {"vi": vi, "en": en}


def missing_languages(value: Any) -> list[str]:
    """Languages a bilingual text lacks (all of them when it is not a mapping)."""
    if not isinstance(value, Mapping):
        return list(LANGUAGES)
    return [lang for lang in LANGUAGES if not isinstance(value.get(lang), str) or not value[lang].strip()]


def fold(value: str) -> str:
    """Lower case without Vietnamese diacritics, so "dang ky khai sinh" finds "Đăng ký khai sinh"."""
    value = value.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", value)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def folded_name(name: str) -> str:
    """A person's name as it is looked up: :func:`fold`, its words separated by one space ("Nguyễn  Thị Lan" and
    "nguyen thi lan" are one name)."""
    return " ".join(fold(name).split())
