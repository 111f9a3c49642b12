"""Does a text read as English? A cheap check the embedding tagger gates one choice on.

MiniLM and its word-piece weights were trained and measured on English. Embedding a
window sentence by sentence helps English speech and news, but on Spanish, German and
French text (tagged with an English list) the short foreign sentences are noisy on their
own and the window embedded in one piece ranks better (``benchmarks/tagging.md``, speech
section). English function words make up 20-85% of the words of every English set the
benchmark holds (news headlines 8% at the least) and 1-9% of the es/de/fr items, so a
text of at least ``MIN_WORDS`` words with under ``MIN_SHARE`` of them is taken as not
English. Shorter texts are one sentence or two, where the choice hardly matters: they
count as English.
"""

from __future__ import annotations

import re

__all__ = ["MIN_SHARE", "MIN_WORDS", "english_share", "reads_as_english"]

MIN_WORDS = 20
MIN_SHARE = 0.12

_WORD = re.compile(r"[a-z']+")
_WORDS = """the a an and or but of to in on at for with from by about as is are was were be
    been being have has had do does did not no it its it's this that these those there
    here i you he she we they me him her us them my your his our their what which who
    when where why how if so then than too very just can could will would should may
    might must shall yeah okay ok um uh like know think going get got really well right
    oh all some any one more up out over into because also only"""
_FUNCTION_WORDS = frozenset(_WORDS.split())


def english_share(text: str) -> tuple[float, int]:
    """The share of the text's words that are common English function words, and its words."""
    words = _WORD.findall(text.lower())
    if not words:
        return 0.0, 0
    return sum(w in _FUNCTION_WORDS for w in words) / len(words), len(words)


def reads_as_english(text: str) -> bool:
    """True unless the text is long enough to tell and has few English function words."""
    share, n = english_share(text)
    return n < MIN_WORDS or share >= MIN_SHARE
