"""Speech recognisers (one module per engine)."""
