"""One-command reproduction of the VLA-Pro experiment: profiles, cached stages, side-by-side report."""

from vlapro_bench.reproduce.profile import ProfileError, ReproduceProfile, load_profile

__all__ = ["ProfileError", "ReproduceProfile", "load_profile"]
