"""The weights an entry's policy loads: confined to the entry's folder, fingerprinted, read from there.

A registered policy declares which of its arguments name files or folders it loads
(:attr:`~vlapro_bench.policy.PolicyTraits.weights`: replay's ``actions``, tinyvla's
``checkpoint``, vla_pro's ``backbone`` and ``bank``). Whatever the value looks like (``ckpt``
and ``secret.npy`` name files as surely as ``runs/ckpt`` does), in an entry each is one of:

- a path relative to the leaderboard folder, inside it (the weights are published beside the entry);
- an http(s) URL (the verifier downloads it and passes the copy with ``--policy-arg``);
- ``null``: not published. Verify then says it cannot rebuild the policy.

Any non-null weights argument needs ``load.fingerprint``: :func:`weights_fingerprint` of all of
them, which verify recomputes on what it loads, so the episodes it re-runs come from the weights
the entry names. Verify resolves published paths against the entry's folder, never against the
working directory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from vlapro_bench.leaderboard.safe_io import is_url, link_problem
from vlapro_bench.leaderboard.schema import PolicyLoad
from vlapro_bench.policy import is_registered, policy_traits

_CHUNK = 1 << 20


class WeightsError(ValueError):
    """Weights that cannot be loaded or do not hash to the entry's fingerprint."""


def weights_args(load: PolicyLoad) -> tuple[str, ...]:
    """The arguments of the entry's policy that name weights (only a registry policy declares them)."""
    if load.kind != "registry" or not is_registered(load.name):
        return ()
    return policy_traits(load.name).weights


def published(load: PolicyLoad) -> dict[str, str]:
    """The weights arguments the entry gives a value (``null`` ones are left out)."""
    return {key: load.kwargs[key] for key in weights_args(load) if load.kwargs.get(key) is not None}


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def tree_sha256(path: Path) -> str:
    """sha256 of a file, or of a folder's sorted ``relative path, file sha256`` lines.

    Symlinks are refused (a published folder must hold its files, not point elsewhere).
    """
    if path.is_symlink():
        raise WeightsError(f"{path} is a symlink; weights must be the files themselves")
    if path.is_file():
        return _file_sha256(path)
    if not path.is_dir():
        raise WeightsError(f"{path} does not exist")
    lines = []
    for item in sorted(path.rglob("*")):
        if item.is_symlink():
            raise WeightsError(f"{item} is a symlink; weights must be the files themselves")
        if item.is_file():
            lines.append(f"{item.relative_to(path).as_posix()}\0{_file_sha256(item)}\n")
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def weights_fingerprint(paths: Mapping[str, Path]) -> str:
    """The fingerprint of an entry's weights: sha256 of ``argument=tree sha256`` lines, by argument."""
    lines = "".join(f"{key}={tree_sha256(Path(paths[key]))}\n" for key in sorted(paths))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def weights_problems(load: PolicyLoad, folder: Path) -> list[tuple[str, str, str]]:
    """``(code, where, why)`` for each weights argument that is not confined, present and fingerprinted."""
    problems = []
    for key, value in published(load).items():
        where = f"load.kwargs.{key}"
        if not isinstance(value, str):
            problems.append(("weights", where, f"{value!r} names the weights {load.name} loads; give a path inside "
                                               f"the leaderboard folder, an http(s) URL, or null if not published"))
            continue
        why = link_problem(value, folder)
        if why is not None:
            problems.append(("path", where, why))
        elif not is_url(value) and not (folder / value).exists():
            problems.append(("weights", where, f"{value!r} is not in the leaderboard folder; publish the weights "
                                               f"beside the entry, give an http(s) URL, or null if not published"))
    if published(load) and load.fingerprint is None:
        names = ", ".join(sorted(published(load)))
        problems.append(("weights", "load.fingerprint", f"{names} name weights, so the entry needs their "
                                                        f"fingerprint (leaderboard submit computes it)"))
    return problems


def resolve_weights(load: PolicyLoad, entry_id: str, folder: Path, overrides: Mapping[str, object]) -> dict[str, str]:
    """The weights arguments verify passes: published paths resolved in ``folder`` (never the working
    directory), the verifier's ``overrides`` as given, all checked against the entry's fingerprint."""
    paths: dict[str, Path] = {}
    for key in weights_args(load):
        if key in overrides:
            if overrides[key] is not None:
                paths[key] = Path(str(overrides[key])).expanduser()
            continue
        if key not in load.kwargs:
            continue
        value = load.kwargs[key]
        if value is None:
            raise WeightsError(f"{entry_id} does not publish the weights of {key!r} (load.kwargs.{key} is null), so "
                               f"verify cannot rebuild its policy; if you hold them, pass --policy-arg {key}=PATH")
        if is_url(str(value)):
            raise WeightsError(f"{entry_id}: load.kwargs.{key} is a download ({value}); fetch it and pass "
                               f"--policy-arg {key}=PATH (it must hash to the entry's fingerprint)")
        paths[key] = folder / str(value)
    fingerprinted = {key: path for key, path in paths.items() if key in published(load)}
    if load.fingerprint is not None and fingerprinted:
        actual = weights_fingerprint(fingerprinted)
        if actual != load.fingerprint:
            raise WeightsError(f"the weights hash to {actual}, the entry was evaluated with {load.fingerprint}: not "
                               f"the same policy")
    return {key: str(path.resolve()) for key, path in paths.items()}
