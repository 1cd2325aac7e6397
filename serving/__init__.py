"""FastAPI app: /ws/talk protocol, admin API, auth, health, metrics, web widget, and the CLI.

Nothing leaves the building: library telemetry is switched off here, before any library that
has some is imported (every entry point, `samyu` and `uvicorn serving.app:create_app`, imports
this package first). onnxruntime >= 1.2x keeps a telemetry store
(~/.cache/Microsoft/DeveloperTools/.onnxruntime/onnxruntime.db) open unless
ORT_DISABLE_TELEMETRY is set before it is imported; `onnxruntime.disable_telemetry_events()`
alone does not close it (measured). docs/deployment.md lists these variables for operators.
"""

import os

TELEMETRY_OFF = {
    "ORT_DISABLE_TELEMETRY": "1",  # onnxruntime (VAD, piper): no OneDS store or events
    "HF_HUB_DISABLE_TELEMETRY": "1",  # huggingface_hub (faster-whisper, sentence-transformers)
    "HF_HUB_OFFLINE": "1",  # and no hub calls at all: models come from local paths
    "DO_NOT_TRACK": "1",  # the cross-tool convention (e.g. coqui, gradio-based tools)
    "ANONYMIZED_TELEMETRY": "False",  # chromadb-style libraries
    "SCARF_NO_ANALYTICS": "true",  # libraries that report installs through Scarf
    "GRADIO_ANALYTICS_ENABLED": "False",
}
for _name, _value in TELEMETRY_OFF.items():
    os.environ.setdefault(_name, _value)
