"""Leaderboards: entries built from evaluation runs, validated as untrusted input, rendered, verified.

Modules: ``schema`` (the entry format), ``safe_io`` (reading untrusted files, path checks),
``names`` (text a reader can trust, lookalike names), ``records`` (canonical per-episode
records and their hash), ``results`` (the numbers), ``weights`` (weights arguments: confined,
fingerprinted), ``validate``, ``submit``, ``render``, ``sampling`` (the unpredictable sample
``verify`` re-runs), ``verify``, and ``cli`` (``vlapro-bench leaderboard``).
"""
