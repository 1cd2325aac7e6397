"""Speech in and out: ASR (faster-whisper), VAD (silero), language id, TTS engines and the voice registry.

Imports none of samyu's other packages.
"""
