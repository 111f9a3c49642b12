"""Audio in: decode any audio or video file to mono 16 kHz float32 samples."""

from earmark.audio.decode import count_channels, decode_audio, probe_duration_ms

__all__ = ["count_channels", "decode_audio", "probe_duration_ms"]
