"""The English check that decides whether a window is embedded sentence by sentence."""

from __future__ import annotations

from dataclasses import replace

from tagging_fakes import KeywordEncoder

from earmark.tagging.embedding import EmbeddingConfig, EmbeddingTagger
from earmark.tagging.language import english_share, reads_as_english

SPANISH = (
    "bueno pues hoy en el programa hablamos del partido de anoche. el equipo jugó muy bien "
    "en la segunda parte. marcaron dos goles y la afición salió contenta del estadio. el "
    "entrenador dijo que todavía queda mucha temporada."
)
GERMAN = (
    "guten abend meine damen und herren. die regierung hat heute im bundestag ein neues "
    "gesetz vorgestellt. die opposition kritisierte den entwurf scharf und kündigte "
    "widerstand im ausschuss an."
)
ENGLISH = (
    "so um welcome back to the show. today we're talking about the match last night and "
    "honestly I think the team played really well in the second half, you know, two goals "
    "and the fans went home happy."
)


def test_english_speech_reads_as_english_and_other_languages_do_not() -> None:
    assert reads_as_english(ENGLISH)
    assert not reads_as_english(SPANISH)
    assert not reads_as_english(GERMAN)
    share, n = english_share(SPANISH)
    assert n > 20 and share < 0.12


def test_short_or_empty_texts_count_as_english() -> None:
    assert reads_as_english("hola que tal")  # too short to tell
    assert reads_as_english("")
    assert english_share("") == (0.0, 0)


def test_a_foreign_window_is_embedded_in_one_piece() -> None:
    enc = KeywordEncoder()
    tagger = EmbeddingTagger(enc)
    assert tagger._pieces(SPANISH) == [SPANISH]
    assert len(tagger._pieces(ENGLISH)) == 2  # its two sentences
    off = EmbeddingTagger(enc, replace(EmbeddingConfig(), sentences_need_english=False))
    assert len(off._pieces(SPANISH)) == 4
