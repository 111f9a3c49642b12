"""The embedding tagger (offline default): MiniLM similarity between text and tags.

How a score is made (every choice measured in ``benchmarks/tagging.md``):

- Every text is embedded twice in one encoder pass (:meth:`TextEncoder.encode_pair`):
  the *mean* pooling of MiniLM's token states (sentence-transformers' embedding) and a
  *weighted* pooling, ``sum_t w[id_t] * h_t`` normalised, with SIF weights ``a / (a +
  p)`` (``a = 1e-5``, ``p`` a Zipf estimate from the word piece's vocabulary rank) and
  weight 2 for [CLS] and [SEP] (:func:`~earmark.tagging.encoder.minilm_pool_weights`):
  "the", "about" or "." count little. Every tag and window vector below exists in both.
- A tag is the L2-normalised mean of the embeddings of its *prototypes*:
  ``"Topic: <name>. <description>"``, ``"This is about <name>."`` and one
  ``"This is about <phrase>."`` per item of the description's list
  (:func:`description_phrases`: "News about companies, markets, trade and finance." gives
  "News about companies", "markets", "trade", "finance"). The phrase prototypes pull the
  tag towards each thing the user listed instead of towards the shared wording of the
  list ("News about ..."). Its example phrases, if any, are then added to that vector,
  each with weight ``example_weight`` (0.25; examples teach the tag; the mean beat
  max-sim).
- A text is cut into windows (:mod:`earmark.tagging.windows`). Each window is cut into
  sentences, each sentence is embedded, and the window's vector is the mean of its
  sentence embeddings weighted by the square root of their word counts (a headline
  counts about as much as the longer sentence under it; one embedding of the whole
  window leans towards its longest sentence). The whole recording is the word-weighted
  mean of its window vectors. ``cos`` is the cosine between a window (or the whole) and
  each tag in the weighted pooling; tags are ranked by ``cos``.
- Why two poolings (the hybrid): ranking by the weighted pooling is more accurate, but
  its margins over neutral talk are on another scale, so "does any tag fit" is still
  decided by the mean pooling, as calibrated (below: ``m_best``); its gaps between tags are
  smaller, hence a tighter ``spread``.
- The prior is removed per text, not per tag: short generic talk ("okay, can you hear
  me?") is as close to any "Topic: ..." text as real on-topic news is, so raw cosines
  cannot say "none fits". Each text is also compared with a small built-in set of
  neutral, topic-free sentences (``earmark/data/tagging_neutral.txt``, mean pooling);
  ``background`` is the mean of its ``background_k`` highest similarities to them (mean
  pooling of the text too). Per-tag prior subtraction (each tag's mean score over that
  set) was measured and lowered accuracy on AG News, HuffPost and BANKING77, so it is
  not used for ranking. Nothing is computed over the
  texts being tagged: each text is scored on its own.
- ``relevance = sigmoid((margin - center) / temperature) * g(cos - best_cos)``, in 0..1,
  with ``margin = cos - best_cos + m_best``, ``m_best = max(cos_mean) - background`` (the
  best tag's margin in the mean pooling) and ``g(d) = sigmoid((d + spread) /
  spread_temperature) / sigmoid(spread / spread_temperature)``. The first factor says "on
  topic at all": the best tag passes it when, in the mean pooling, the text is closer to
  some tag than to neutral talk, less ``-center``; when it fails, no tag is selected and
  that means "none of these fits" (the same decision as with mean pooling alone). The
  second says "among the leading tags": a tag a little more than ``spread`` (cosine)
  below the best tag of the same text or window drops under 0.5 (the best tag's factor
  is 1). Ranking is unchanged: both factors rise with ``cos``.
- Coverage: a recording's relevance to a tag is the larger of its relevance to the mean
  embedding and the relevance the tag keeps over at least ``coverage`` (25%) of the
  words, window by window; a text that fits in one window gets the same sentence by
  sentence, capped just under its leading tag. A topic that fills a quarter of a call or
  of a short clip is not averaged away.
- Why the gate and coverage: with the first factor alone every tag of a list of related
  topics passed for any on-topic text; the gate keeps ``selected`` to the leading tags and
  coverage keeps a topic that fills a quarter of a recording.

Every measurement behind these choices is in ``benchmarks/tagging.md`` (and its section
"Design notes moved from the code").
"""

from __future__ import annotations

import itertools
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from earmark.errors import InputError
from earmark.tagging._threads import one_blas_thread
from earmark.tagging.base import Tagger, TagInput, TagOptions
from earmark.tagging.boilerplate import CALL_BOILERPLATE
from earmark.tagging.embedding_config import (
    SPEECH_CONFIG,
    EmbeddingConfig,
    description_phrases,
    neutral_texts,
    taglist_key,
)
from earmark.tagging.encoder import TextEncoder, get_encoder
from earmark.tagging.language import reads_as_english
from earmark.tagging.openset import BackgroundTopics
from earmark.tagging.windows import Window, make_windows, split_sentences
from earmark.types import TagList, TagResult, TagScore, WindowTags

__all__ = [
    "SPEECH_CONFIG",
    "EmbeddingConfig",
    "EmbeddingTagger",
    "description_phrases",
    "neutral_texts",
    "taglist_key",
]

F32 = npt.NDArray[np.float32]
Pair = tuple[F32, F32]  # (mean-pooled, weighted-pooled) rows of the same texts


def _normalise(x: F32) -> F32:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    out: F32 = (x / np.maximum(norms, 1e-12)).astype(np.float32)
    return out


class EmbeddingTagger(Tagger):
    """Zero-shot (and few-shot, with examples) tagging with sentence embeddings."""

    name = "embedding"

    def __init__(
        self, encoder: TextEncoder | None = None, config: EmbeddingConfig | None = None
    ) -> None:
        self._encoder = encoder
        self.config = config or EmbeddingConfig()
        self._lock = threading.Lock()
        self._tag_cache: OrderedDict[str, tuple[F32, F32]] = OrderedDict()
        self._neutral: F32 | None = None
        self._topic_free: F32 | None = None
        self._background = (
            None
            if self.config.open_set is None
            else BackgroundTopics(self.config.open_set, self.tag_matrices)
        )

    @property
    def encoder(self) -> TextEncoder:
        """The text encoder (the shared MiniLM one unless another was given)."""
        if self._encoder is None:
            self._encoder = get_encoder()
        return self._encoder

    @property
    def default_threshold(self) -> float:
        """The relevance a tag must reach unless asked otherwise: the raw gate, calibrated."""
        c = self.config
        return c.threshold if c.calibration is None else c.calibration.at(c.threshold)

    def _prototypes(self, name: str, description: str) -> list[str]:
        c = self.config
        texts = [
            t.format(name=name, lower=name.lower(), description=description) for t in c.templates
        ]
        if c.phrase_template is not None:
            texts.extend(
                c.phrase_template.format(phrase=p) for p in description_phrases(description)
            )
        return texts

    def tag_vectors(self, tags: TagList) -> F32:
        """One unit vector per tag (mean pooling): its prototypes' mean, plus its examples."""
        return self.tag_matrices(tags)[0]

    def tag_matrices(self, tags: TagList) -> tuple[F32, F32]:
        """The tag vectors of both poolings, ``(mean, weighted)``, built the same way.

        Each is the normalised mean of the tag's prototype embeddings of that pooling,
        plus its examples' embeddings; cached by the tag list's content.
        """
        key = taglist_key(tags)
        with self._lock:
            if key in self._tag_cache:
                self._tag_cache.move_to_end(key)
                return self._tag_cache[key]
        texts: list[str] = []
        owner: list[int] = []
        for i, tag in enumerate(tags.tags):
            protos = self._prototypes(tag.name, tag.description)
            texts.extend(protos)
            owner.extend([i] * len(protos))
        pair = self.encoder.encode_pair(texts)
        n = len(tags.tags)
        matrices = _pool(pair, np.array(owner), np.ones(len(texts), np.float32), n)
        examples = [(i, ex) for i, tag in enumerate(tags.tags) for ex in tag.examples]
        if examples:
            ex_pair = self.encoder.encode_pair([ex for _, ex in examples])
            # each described vector (unit) plus its examples at ``example_weight`` each
            owners = np.concatenate([np.arange(n), [i for i, _ in examples]]).astype(np.int64)
            weights = np.concatenate(
                [np.ones(n), np.full(len(examples), self.config.example_weight)]
            ).astype(np.float32)
            mean_rows = np.vstack([matrices[0], ex_pair[0]])
            same = matrices[1] is matrices[0] and ex_pair[1] is ex_pair[0]
            weighted_rows = mean_rows if same else np.vstack([matrices[1], ex_pair[1]])
            matrices = _pool((mean_rows, weighted_rows), owners, weights, n)
        with self._lock:
            self._tag_cache[key] = matrices
            while len(self._tag_cache) > 64:
                self._tag_cache.popitem(last=False)
        return matrices

    def _neutral_vectors(self) -> F32:
        if self._neutral is None:
            self._neutral = self.encoder.encode(neutral_texts())
        return self._neutral

    def _topic_free_vectors(self) -> F32:
        """Neutral sentences and call boilerplate (mean pooling): the topicality reference."""
        if self._topic_free is None:
            self._topic_free = self.encoder.encode([*neutral_texts(), *CALL_BOILERPLATE])
        return self._topic_free

    def sentences(self, text: str) -> list[str]:
        """The pieces a window is embedded in: its sentences, overly long ones cut."""
        out: list[str] = []
        limit = self.config.long_sentence_words
        for sentence in split_sentences(text) or [text]:
            words = sentence.split()
            if limit is None or len(words) <= limit:
                out.append(sentence)
                continue
            n = max(1, round(len(words) / max(self.config.piece_words, 1)))
            bounds = [round(k * len(words) / n) for k in range(n + 1)]
            out.extend(" ".join(words[a:b]) for a, b in itertools.pairwise(bounds) if b > a)
        return [s for s in out if s.strip()]

    def _pieces(self, window: str) -> list[str]:
        """What a window is embedded as: its sentences, or itself when not English."""
        if self.config.sentences_need_english and not reads_as_english(window):
            return [window]
        return self.sentences(window) or [window]

    def topicality(self, mean_rows: F32, tag_mean: F32) -> F32:
        """Per row (mean pooling): best tag cosine less its similarity to topic-free talk."""
        ref = self._topic_free_vectors()
        k = max(1, min(self.config.background_k, len(ref)))
        best = (mean_rows @ tag_mean.T).max(axis=1)
        background = np.sort(mean_rows @ ref.T, axis=1)[:, -k:].mean(axis=1)
        out: F32 = (best - background).astype(np.float32)
        return out

    def topical_weights(self, mean_rows: F32, tag_mean: F32) -> F32:
        """Each row's weight in its window, 0..1 (all 1 when the weighting is off)."""
        c = self.config
        if c.topical_center is None or len(mean_rows) == 0:
            return np.ones(len(mean_rows), np.float32)
        t = self.topicality(mean_rows, tag_mean)
        w = _sigmoid((t - c.topical_center) / c.topical_temperature)
        out: F32 = np.maximum(w, np.float32(1e-4)).astype(np.float32)
        return out

    def relevance(self, cos: F32, background: F32) -> F32:
        """Map cosines (rows: texts) and each text's background to 0..1 relevances."""
        c = self.config
        out = _sigmoid((cos - background[:, None] - c.center) / c.temperature)
        if c.spread is not None:
            best = cos.max(axis=1, keepdims=True)
            gate = _sigmoid((cos - best + c.spread) / c.spread_temperature)
            out = out * gate / _sigmoid(np.array(c.spread / c.spread_temperature, np.float32))
        return out

    def _score(self, vectors: Pair, tagvecs: Pair, plain: F32 | None = None) -> F32:
        """Relevance of each tag for each row of ``vectors`` (both poolings of the texts).

        The hybrid: tags are ranked (and gated) by the weighted pooling's cosines
        ``cos_r``; whether any fits comes from the mean pooling, whose best tag's margin
        ``m_best = max(cos_mean) - background`` replaces the weighted one's, so
        ``margin = cos_r - max(cos_r) + m_best``. ``plain``, if given, are the same texts'
        mean-pooled rows with softened topical weights: the margin is taken from them, so
        that weighting the sentences (which moves every text towards its most topical
        sentence) changes mainly which tag leads, less how often "none fits".
        """
        (mean, weighted), (tag_mean, tag_weighted) = vectors, tagvecs
        cos_m = mean @ tag_mean.T
        cos_r = (
            cos_m if weighted is mean and tag_weighted is tag_mean else weighted @ tag_weighted.T
        )
        decide = mean if plain is None else plain
        k = max(1, min(self.config.background_k, len(self._neutral_vectors())))
        sims = decide @ self._neutral_vectors().T
        background = np.sort(sims, axis=1)[:, -k:].mean(axis=1)
        best_m = cos_m.max(axis=1) if plain is None else (plain @ tag_mean.T).max(axis=1)
        # relevance() subtracts this from cos_r: cos_r - (it) = cos_r - max cos_r + m_best
        offset = background + cos_r.max(axis=1) - best_m
        out = self.relevance(cos_r.astype(np.float32), offset.astype(np.float32))
        if self._background is not None:  # off-list topics: earmark.tagging.openset
            out = out * self._background.factor(weighted, tagvecs)[:, None]
        return out

    def tag(self, item: TagInput, tags: TagList, options: TagOptions | None = None) -> TagResult:
        """Rank every tag of ``tags`` for ``item`` (a transcript or plain text)."""
        return self.tag_many([item], tags, options)[0]

    def tag_many(
        self, items: list[TagInput], tags: TagList, options: TagOptions | None = None
    ) -> list[TagResult]:
        """Tag several items, encoding all their windows in shared batches."""
        with one_blas_thread():  # see earmark.tagging._threads
            return self._tag_many(items, tags, options)

    def _tag_many(
        self, items: list[TagInput], tags: TagList, options: TagOptions | None
    ) -> list[TagResult]:
        opts = options or TagOptions()
        threshold = self.default_threshold if opts.threshold is None else opts.threshold
        if not 0.0 <= threshold <= 1.0 or math.isnan(threshold):
            raise InputError(f"threshold must be between 0 and 1, got {threshold}")
        if not tags.tags:
            raise InputError("the tag list is empty")
        windows = [
            make_windows(item, opts, self.encoder.count_tokens, self.encoder.max_tokens)
            for item in items
        ]
        tagvecs = self.tag_matrices(tags)
        texts = [w.text for ws in windows for w in ws]
        single = [len(ws) == 1 for ws in windows for _ in ws]
        emb, rel, mass, plain = self._embed_windows(texts, tagvecs, single)
        results: list[TagResult] = []
        start = 0
        for ws in windows:
            part = slice(start, start + len(ws))
            start += len(ws)
            win_emb = (emb[0][part], emb[1][part])
            results.append(
                self._result(
                    ws,
                    win_emb,
                    (rel[part], mass[part], plain[part]),
                    tags,
                    tagvecs,
                    threshold,
                    opts.per_window,
                )
            )
        return results

    def _embed_windows(
        self, texts: list[str], tagvecs: Pair, by_sentence: Sequence[bool]
    ) -> tuple[Pair, F32, F32, F32]:
        """Each window's unit vectors (both poolings), relevance to each tag, weight, plain.

        The weight is what the window counts for in the whole recording: its words,
        times its sentences' mean topical weight (:meth:`topical_weights`). ``plain`` is
        the window's mean-pooled vector with the weights softened
        (``topical_decision_power``): the "none fits" decision's input, see :meth:`_score`.

        With sentence pooling, where ``by_sentence`` (the text is one window), a window's
        relevance to a tag is the larger of its relevance to the pooled vector and the
        relevance the tag keeps over ``coverage`` of the window's words, sentence by
        sentence (but never above the window's leading tag): a topic that takes a third of
        a short clip is not averaged away by the rest of it. Longer recordings get the
        same from their windows instead (see :meth:`_result`): sentence votes inside their
        windows added noise (``benchmarks/multilabel_bench.py``, three BBC articles as one
        transcript: 2.4 tags per window at precision 0.62 instead of 1.5 at 0.77, and
        recording F1 0.85 instead of 0.88).
        """
        win_words = np.array([max(len(t.split()), 1) for t in texts], dtype=np.float32)
        if not texts:
            empty = np.zeros((0, tagvecs[0].shape[1]), np.float32)
            return (empty, empty), np.zeros((0, len(tagvecs[0])), np.float32), win_words, empty
        if not self.config.sentence_pooling:
            emb = self.encoder.encode_pair(texts)
            return emb, self._score(emb, tagvecs), win_words, emb[0]
        parts = [self._pieces(t) for t in texts]
        flat = [s for p in parts for s in p]
        emb = self.encoder.encode_pair(flat)
        words = np.array([max(len(s.split()), 1) for s in flat], dtype=np.float32)
        owner = np.repeat(np.arange(len(texts)), [len(p) for p in parts])
        base = np.sqrt(words)
        topical = self.topical_weights(emb[0], tagvecs[0])
        pooled = _pool(emb, owner, base * topical, len(texts))
        share = np.bincount(owner, base * topical, len(texts)) / np.bincount(
            owner, base, len(texts)
        )
        mass = (win_words * share).astype(np.float32)
        plain = _pool(
            (emb[0], emb[0]), owner, base * topical**self.config.topical_decision_power, len(texts)
        )[0]
        rel = self._score(pooled, tagvecs, plain)
        bounds = np.cumsum([0] + [len(p) for p in parts])
        need = [
            i
            for i, (a, b) in enumerate(itertools.pairwise(bounds))
            if b - a > 1 and by_sentence[i] and self.config.sentence_coverage
        ]
        if not need:
            return pooled, rel, mass, plain
        rows = np.concatenate([np.arange(bounds[i], bounds[i + 1]) for i in need])
        mean = emb[0][rows]
        sentence_rel = self._score((mean, mean if emb[1] is emb[0] else emb[1][rows]), tagvecs)
        start = 0
        for i in need:
            a, b = bounds[i], bounds[i + 1]
            covered = _covering(
                sentence_rel[start : start + b - a], words[a:b], self.config.coverage
            )
            start += b - a
            # Never above the window's own leading tag: the order at the top stays
            # that of the whole window (sentence votes alone cost HuffPost 1.4 points).
            cap = _below(rel[i].max())
            rel[i] = np.maximum(rel[i], np.minimum(covered, cap))
        return pooled, rel, mass, plain

    def _result(
        self,
        windows: Sequence[Window],
        win_emb: Pair,
        scores: tuple[F32, F32, F32],
        tags: TagList,
        tagvecs: Pair,
        threshold: float,
        per_window: bool,
    ) -> TagResult:
        win_rel, win_mass, win_plain = scores
        names = tags.names
        extra: dict[str, object] = {"encoder": self.encoder.name, "windows": len(windows)}
        if not windows:
            ranked = tuple(TagScore(n, 0.0) for n in names)
            return TagResult(None, ranked, (), (), threshold, self.name, extra)
        weights = np.array([max(len(w.text.split()), 1) for w in windows], dtype=np.float32)
        one = np.zeros(len(windows), np.int64)
        whole = _pool(win_emb, one, win_mass, 1)
        whole_plain = _pool((win_plain, win_plain), one, weights, 1)[0]
        whole_rel = self._score(whole, tagvecs, whole_plain)[0]
        overall = np.maximum(whole_rel, _covering(win_rel, weights, self.config.coverage))
        if self.config.calibration is not None:  # raw score -> how often it is right
            overall = self.config.calibration.apply(overall)
            win_rel = self.config.calibration.apply(win_rel)
        ranked, selected = _rank(names, overall, threshold, whole_rel)
        segments: tuple[WindowTags, ...] = ()
        if per_window:
            segments = tuple(
                WindowTags(w.start_ms, w.end_ms, w.text, *_rank(names, win_rel[i], threshold))
                for i, w in enumerate(windows)
            )
        best = selected[0] if selected else None
        return TagResult(best, ranked, selected, segments, threshold, self.name, extra)


def _pool(emb: Pair, owner: npt.NDArray[np.int64], weights: F32, n: int) -> Pair:
    """Both poolings' rows summed into ``n`` groups (``owner``) with ``weights``, normalised."""
    out: list[F32] = []
    for k, rows in enumerate(emb):
        if k == 1 and emb[1] is emb[0]:
            out.append(out[0])  # an encoder without weighted pooling: keep one matrix
            continue
        sums = np.zeros((n, rows.shape[1]), dtype=np.float32)
        np.add.at(sums, owner, rows * weights[:, None])
        out.append(_normalise(sums))
    return out[0], out[1]


def _sigmoid(x: F32) -> F32:
    out: F32 = (1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))).astype(np.float32)
    return out


def _covering(rel: F32, weights: F32, coverage: float) -> F32:
    """Per tag, the relevance it keeps over at least ``coverage`` of the words (by row)."""
    if len(rel) == 1:
        single: F32 = rel[0]
        return single
    order = np.argsort(-rel, axis=0)
    cum = np.cumsum(weights[order], axis=0) / weights.sum()
    first = np.argmax(cum >= coverage - 1e-9, axis=0)  # first row reaching the share
    out: F32 = np.take_along_axis(rel, order, axis=0)[first, np.arange(rel.shape[1])]
    return out


def _below(leader: np.floating | float) -> np.float32:
    """Just under a leading relevance, visibly (reported relevances have 4 decimals)."""
    return np.float32(max(float(leader) - 1e-3, float(leader) * 0.999, 0.0))


def _rank(
    names: Sequence[str], rel: F32, threshold: float, tiebreak: F32 | None = None
) -> tuple[tuple[TagScore, ...], tuple[str, ...]]:
    """Tags by relevance (4 decimals); equal ones by ``tiebreak`` (the whole text's own)."""
    shown = np.round(rel.astype(np.float64), 4)
    second = np.zeros_like(shown) if tiebreak is None else tiebreak.astype(np.float64)
    order = np.lexsort((-second, -shown))
    ranked = tuple(TagScore(names[i], float(shown[i])) for i in order)
    selected = tuple(s.tag for s in ranked if s.relevance >= threshold)
    return ranked, selected
