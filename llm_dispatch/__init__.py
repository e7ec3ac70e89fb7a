"""llm_dispatch."""
