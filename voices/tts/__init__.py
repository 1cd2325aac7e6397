"""Speech synthesis engines (one module per engine) and the language -> voice registry."""
