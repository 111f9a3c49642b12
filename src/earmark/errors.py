"""The one error tree of earmark.

Every error that earmark raises on purpose derives from :class:`EarmarkError` and
carries the HTTP status a server should answer with, so a single handler can render
any of them::

    EarmarkError (500)
    ├── InputError (400)                 the caller gave something earmark cannot use
    │   ├── MediaError                   audio/video that cannot be decoded
    │   │   ├── MediaNotFoundError       the file does not exist
    │   │   ├── NotMediaError            the file is not audio or video
    │   │   ├── NoAudioStreamError       media without an audio track
    │   │   └── EmptyMediaError          zero-length or truncated media
    │   ├── TagListError                 an unusable tag list
    │   ├── DownloadError                an audio_url that cannot be fetched
    │   ├── PayloadTooLargeError (413)   an upload or download over the limit
    │   └── ContextLengthError           prompt + transcript exceed the model's context
    ├── AuthError (401)                  missing or invalid API key
    ├── NotFoundError (404)              unknown transcript, model, route...
    ├── ModelError (500)                 a model that cannot be found or loaded
    └── UpstreamError (502)              an LLM provider failed
        └── UpstreamTimeoutError (504)
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "ContextLengthError",
    "DownloadError",
    "EarmarkError",
    "EmptyMediaError",
    "InputError",
    "MediaError",
    "MediaNotFoundError",
    "ModelError",
    "NoAudioStreamError",
    "NotFoundError",
    "NotMediaError",
    "PayloadTooLargeError",
    "TagListError",
    "UpstreamError",
    "UpstreamTimeoutError",
]


class EarmarkError(Exception):
    """Base of every deliberate earmark error. ``status_code`` is the HTTP status."""

    status_code: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(EarmarkError):
    """The caller gave earmark something it cannot use."""

    status_code = 400


class MediaError(InputError):
    """Audio or video that cannot be decoded."""


class MediaNotFoundError(MediaError):
    """The media file does not exist."""


class NotMediaError(MediaError):
    """The file is not audio or video that ffmpeg can read."""


class NoAudioStreamError(MediaError):
    """The media has no audio stream (a silent video, an image...)."""


class EmptyMediaError(MediaError):
    """The media holds no audio samples: zero-length or truncated."""


class TagListError(InputError):
    """A tag list that cannot be used: empty, duplicate names, empty descriptions..."""


class DownloadError(InputError):
    """An ``audio_url`` that cannot be fetched."""


class PayloadTooLargeError(InputError):
    """An upload or a download over the configured size limit."""

    status_code = 413


class ContextLengthError(InputError):
    """The prompt plus the transcript do not fit the model's context window."""


class AuthError(EarmarkError):
    """Missing or invalid API key."""

    status_code = 401


class NotFoundError(EarmarkError):
    """Unknown transcript id, model, preset or route."""

    status_code = 404


class ModelError(EarmarkError):
    """A model that cannot be found, verified or loaded."""

    status_code = 500


class UpstreamError(EarmarkError):
    """An LLM provider answered with an error or could not be reached."""

    status_code = 502


class UpstreamTimeoutError(UpstreamError):
    """An LLM provider did not answer in time."""

    status_code = 504
