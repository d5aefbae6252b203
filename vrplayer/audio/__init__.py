"""Audio: decoded samples flow through a ring buffer into the mixer and out through an output backend."""
