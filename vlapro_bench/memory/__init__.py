"""Procedural memory (VLA-Pro): task LoRA adapters as memories, retrieval by context, per-chunk fusion."""
