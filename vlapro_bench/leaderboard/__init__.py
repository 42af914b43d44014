"""Leaderboards: entries built from evaluation runs, validated as untrusted input, rendered, verified.

Modules: ``schema`` (the entry format), ``safe_io`` (reading untrusted files, path checks),
``records`` (canonical per-episode records and their hash), ``results`` (the numbers),
``validate``, ``submit``, ``render``, ``verify``, and ``cli`` (``vlapro-bench leaderboard``).
"""
