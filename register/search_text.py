"""The normalised form of names and queries that public search compares (DESIGN.md §5).

NFKC, case-folded, the Kyrgyz letters folded onto their Russian look-alikes (so a query typed
without the Kyrgyz keyboard still finds the name), hyphens, dashes and quotation marks turned
into spaces, and runs of spaces collapsed. The same function makes the search column and reads
the query, so both sides always agree.
"""

from __future__ import annotations

import re
import unicodedata

_FOLD = str.maketrans(
    {
        "\u04e9": "\u043e",  # Kyrgyz o with bar → Cyrillic o
        "\u04af": "\u0443",  # Kyrgyz straight u → Cyrillic u
        "\u04a3": "\u043d",  # Kyrgyz en with descender → Cyrillic en
        "\u0451": "\u0435",  # Cyrillic yo → Cyrillic ie
        "-": " ",
        "\u2010": " ",
        "\u2011": " ",
        "\u2012": " ",
        "\u2013": " ",
        "\u2014": " ",
        "\u00ab": " ",  # «
        "\u00bb": " ",  # »
        "\u201c": " ",
        "\u201d": " ",
        "\u201e": " ",
        '"': " ",
        "'": " ",
        "\u2019": " ",
    }
)
_SPACES = re.compile(r"\s+")


def normalise(text: str | None) -> str:
    """The form that search compares: `normalise("Өзгөн") == normalise("ОЗГОН")`."""
    if not text:
        return ""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_FOLD)
    return _SPACES.sub(" ", folded).strip()


WORD = re.compile(r"[^\W_]+")  # letters and digits: the words of a name, and of a query


def words(text: str | None) -> list[str]:
    """The normalised words of a text, split as the full-text index splits them."""
    return WORD.findall(normalise(text))


def search_text(*parts: str | None) -> str:
    """The normalised words of every part, once each, in order, separated by single spaces."""
    seen: dict[str, None] = {}
    for part in parts:
        for word in words(part):
            seen.setdefault(word, None)
    return " ".join(seen)
