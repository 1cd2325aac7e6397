"""Speech in and out: ASR (faster-whisper), VAD (Silero), language id, TTS engines and the
language -> voice registry.

Imports none of samyu's other packages.
"""
