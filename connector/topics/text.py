"""The words of a ticket that say what it is about: lower case, accents folded, Dutch and English stop words,
greetings and sign-offs left out.

Stop words: scikit-learn's English list (318 words) and the `stop-words` package's Dutch list (106), plus
the salutations customers open and close with in both languages — they are in nearly every message and
would otherwise become a topic of their own. (The `stop-words` English list is not used: it counts "order"
and "problem" as stop words, and on a help desk they are not.)
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

SALUTATIONS = frozenset(
    {
        "hi",
        "hello",
        "dear",
        "support",
        "team",
        "thanks",
        "thank",
        "advance",
        "kind",
        "regards",
        "best",
        "wishes",
        "morning",
        "afternoon",
        "hallo",
        "hoi",
        "beste",
        "goedemorgen",
        "goedemiddag",
        "alvast",
        "bedankt",
        "dank",
        "vriendelijke",
        "groet",
        "groeten",
        "groetjes",
        "graag",
        "mvg",
        "gr",
    }
)
WORD = re.compile(r"[a-z]+")


@cache
def stop_words() -> frozenset[str]:
    """English, Dutch and the salutations, accents folded like the text they are matched against."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
    from stop_words import get_stop_words

    dutch = (fold(w) for w in get_stop_words("dutch"))
    return frozenset(ENGLISH_STOP_WORDS) | frozenset(dutch) | SALUTATIONS


@cache
def dutch_stop_words() -> frozenset[str]:
    from stop_words import get_stop_words

    return frozenset(fold(w) for w in get_stop_words("dutch"))


@cache
def english_stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def fold(text: str) -> str:
    """Lower case without accents ("beëindigd" → "beeindigd")."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def content_words(text: str) -> str:
    """The words of `text` that carry its subject, space-separated (letters only, two at least)."""
    stop = stop_words()
    return " ".join(w for w in WORD.findall(fold(text)) if len(w) > 1 and w not in stop)


def language(text: str) -> str | None:
    """ "nl" or "en" by which language's stop words the text uses more (None when it uses neither): enough
    to tell a topic's language from its tickets, not a language detector."""
    words = WORD.findall(fold(text))
    dutch = sum(w in dutch_stop_words() for w in words)
    english = sum(w in english_stop_words() for w in words)
    if dutch == english:
        return None
    return "nl" if dutch > english else "en"
