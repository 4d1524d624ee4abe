"""Jobs: the engine, flows, step runner and output pipeline."""
