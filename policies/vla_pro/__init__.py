"""VLA-Pro: any backbone that follows the backbone contract, plus a procedural-memory bank."""
