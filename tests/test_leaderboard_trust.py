"""Leaderboard trust (issue 17): the ways a hostile submitter got a false entry accepted, each refused now.

Every case starts from the valid entries ``submit`` built from real runs (the shared setup of
``test_leaderboard_submit``), makes the one change the attack needs, and checks that validate or
verify refuses it, or that the verification sample finds it.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from test_leaderboard_submit import TASKS, finished_runs, make_board, small_protocol, write_card
from test_leaderboard_validate import EXPERT, RANDOM, check, load, save
from typer.testing import CliRunner

from vlapro_bench.cli.leaderboard import leaderboard_app
from vlapro_bench.evaluation.policy_spec import PolicyMismatchError, resolve_policy_spec
from vlapro_bench.evaluation.records import EpisodeRecord
from vlapro_bench.evaluation.runner import EvalSettings, evaluate
from vlapro_bench.leaderboard import validate as validate_module
from vlapro_bench.leaderboard.records import canonical_bytes, parse_records, records_sha256
from vlapro_bench.leaderboard.results import average_result, task_result
from vlapro_bench.leaderboard.safe_io import UnsafeFileError, parse_json_text
from vlapro_bench.leaderboard.sampling import (
    DEFAULT_SAMPLE_EPISODES,
    WHOLE_RUN_EPISODES,
    draw_sample_seed,
    escape_probability,
    sample_size,
    select_episodes,
    split_sample,
)
from vlapro_bench.leaderboard.submit import submit
from vlapro_bench.leaderboard.validate import validate_entry, validate_path
from vlapro_bench.leaderboard.verify import VerifyError, verify_entry
from vlapro_bench.leaderboard.weights import weights_fingerprint
from vlapro_bench.make import make_env


@pytest.fixture
def board(tmp_path, tmp_path_factory) -> Path:
    return make_board(tmp_path, finished_runs(tmp_path_factory.getbasetemp()))


# -- numbers that overflow to infinity -------------------------------------------------------------------------------
@pytest.mark.parametrize("number", [b"1e999", b"-1e999", b"1.5E+400"])
def test_a_number_that_overflows_a_float_is_not_json(number):
    with pytest.raises(UnsafeFileError, match="too large"):
        parse_json_text(b'{"wall_time_s": ' + number + b"}", "records")


def test_an_infinite_records_value_with_a_matching_hash_is_refused(board):
    """Python's parser reads ``1e999`` as infinity; the canonical form writes it as null, so the
    submitter can publish a hash that matches. The records file is refused before any hash."""
    records_path = board / "random.episodes.jsonl"
    lines = records_path.read_bytes().splitlines()
    first = json.loads(lines[0])
    first["wall_time_s"] = "INF"
    lines[0] = json.dumps(first, sort_keys=True, separators=(",", ":")).replace('"INF"', "1e999").encode()
    records_path.write_bytes(b"\n".join(lines) + b"\n")
    tolerant = [EpisodeRecord.model_validate(json.loads(line), strict=True) for line in lines]  # the old reading
    data = load(board / RANDOM)
    data["records"]["sha256"] = records_sha256(tolerant)
    save(board / RANDOM, data)
    report = check(board / RANDOM, require_records=True)
    assert report.codes == {"records_content"}, report.text()
    assert "too large" in report.text()


# -- names a reader cannot tell apart, and text that hides or reorders itself ---------------------------------------
NAME_CASES = [
    ("zero-width space", "Ran\u200bdom", "schema"),
    ("zero-width joiner", "Random\u200d", "schema"),
    ("right-to-left override", "\u202emodnaR", "schema"),
    ("byte-order mark", "\ufeffRandom", "schema"),
    ("private-use character", "Random\ue000", "schema"),
    ("Cyrillic a", "R\u0430ndom", "duplicate"),
    ("Cyrillic upper-case A, O, M", "R\u0410ND\u041e\u041c", "duplicate"),
    ("Greek omicron", "Rand\u03bfm", "duplicate"),
    ("fullwidth letters", "\uff32\uff41\uff4e\uff44\uff4f\uff4d", "duplicate"),
    ("mathematical bold letters", "\U0001d411\U0001d41a\U0001d427\U0001d41d\U0001d428\U0001d426", "duplicate"),
    ("combining grapheme joiner", "Rando\u034fm", "duplicate"),
    ("no-break space and case", "RANDOM\u00a0", "duplicate"),
]


@pytest.mark.parametrize(("name", "code"), [(n, c) for _, n, c in NAME_CASES], ids=[i for i, _, _ in NAME_CASES])
def test_a_lookalike_or_invisible_name_is_refused(board, name, code):
    data = load(board / RANDOM)
    data["id"] = "random-copy"
    data["policy"]["name"] = name
    save(board / "random-copy.json", data)
    report = check(board / "random-copy.json")
    assert code in report.codes, report.text()
    if code == "schema":
        assert "U+" in report.text() and "remove it" in report.text()
    else:
        assert "random.json" in report.text()


@pytest.mark.parametrize("field", ["policy.backbone", "policy.training_data", "policy.description", "policy.code"])
def test_bidirectional_controls_are_refused_in_every_displayed_text(board, field):
    data = load(board / RANDOM)
    section, key = field.split(".")
    data[section][key] = "README.md\u2067x\u2069" if key == "code" else "tiny\u202eAV\u202c net"
    save(board / RANDOM, data)
    report = check(board / RANDOM)
    assert report.codes == {"schema"} and field in report.text(), report.text()


def test_a_distinct_name_in_another_script_is_accepted(board):
    data = load(board / RANDOM)
    data["id"] = "random-copy"
    data["policy"]["name"] = "Случайная политика"  # Cyrillic that does not spell a Latin name
    save(board / "random-copy.json", data)
    assert "duplicate" not in check(board / "random-copy.json").codes


# -- the leaderboards root as the argument of validate ---------------------------------------------------------------
SHIPPED = Path(__file__).resolve().parents[1] / "leaderboards"


def test_validating_the_leaderboards_root_validates_every_board(board):
    root = board.parent
    rlbench = root / "rlbench-unseen"
    rlbench.mkdir()
    (rlbench / "stray.txt").write_text("not an entry")
    (root / "README.md").write_text("# leaderboards\n")
    (root / "notes").mkdir()
    reports = validate_path(root, protocol=small_protocol(), tasks=TASKS)
    by_name = {r.path.name: r for r in reports}
    assert by_name[RANDOM].ok and by_name[EXPERT].ok, [r.text() for r in reports]
    assert by_name["stray.txt"].codes == {"file_type"}  # the rlbench board was validated too
    assert by_name["notes"].codes == {"folder"} and "not a leaderboard folder" in by_name["notes"].text()
    assert "README.md" not in by_name
    assert not any("only JSON entries" in r.text() for r in reports if r.path.parent == root)


def test_cli_validate_takes_the_shipped_leaderboards_root():
    runner = CliRunner()
    result = runner.invoke(leaderboard_app, ["validate", str(SHIPPED), "--require-records"])
    assert result.exit_code == 0, result.output
    shipped = sorted(SHIPPED.glob("*-*/*.json"))
    assert f"{len(shipped)} valid, 0 invalid" in result.output


# -- names that could load a folder or import code -------------------------------------------------------------------
@pytest.fixture
def probe(tmp_path, monkeypatch) -> tuple[str, Path]:
    """A harmless importable module that leaves a marker file when imported: ``(module name, marker)``."""
    folder = tmp_path / "probe"
    folder.mkdir()
    marker = tmp_path / "imported.txt"
    name = "lb_trust_probe"
    (folder / f"{name}.py").write_text(f"from pathlib import Path\nPath({str(marker)!r}).write_text('imported')\n"
                                       "from vlapro_bench.policies.random_policy import make_random_policy as make\n")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, name, raising=False)
    return name, marker


def _checkpoint_folder(path: Path, backbone: str, env) -> Path:
    """A checkpoint folder whose shapes fit ``env`` (so nothing refuses it before the backbone name is read)."""
    path.mkdir(parents=True)
    config = {"action_dim": int(env.action_space.shape[0]),
              "state_dim": int(env.observation_space["agent_pos"].shape[0]), "cameras": []}
    (path / "state.json").write_text(json.dumps({"step": 1, "backbone": backbone, "backbone_config": config}))
    return path


def test_a_checkpoint_naming_module_factory_as_its_backbone_is_refused(tmp_path, probe):
    name, marker = probe
    env = make_env(list(TASKS), "robotwin", obs_mode="state")
    try:
        folder = _checkpoint_folder(tmp_path / "ckpt", f"{name}:make", env)
        with pytest.raises(PolicyMismatchError, match="not a registered backbone"):
            resolve_policy_spec(str(folder), env)  # what `eval --policy FOLDER` does
    finally:
        env.close()
    assert not marker.exists() and name not in sys.modules


def test_a_registry_name_that_matches_a_local_folder_is_never_loaded(board, tmp_path, probe, monkeypatch):
    name, marker = probe
    workdir = tmp_path / "maintainer"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    env = make_env(list(TASKS), "robotwin", obs_mode="state")
    try:
        _checkpoint_folder(workdir / "ckpt", f"{name}:make", env)
    finally:
        env.close()
    data = load(board / RANDOM)
    data["load"]["name"] = "ckpt"
    save(board / RANDOM, data)
    report = check(board / RANDOM)
    assert report.codes == {"load"} and "not a registered policy" in report.text(), report.text()
    with pytest.raises(VerifyError, match="not a registered policy"):
        verify_entry(board / RANDOM, protocol=small_protocol(), tasks=TASKS)
    assert not marker.exists() and name not in sys.modules


# -- the privileged flag, checked against the policy ------------------------------------------------------------------
def _unprivileged(data: dict) -> None:
    data["policy"].update(name="My learned policy", backbone="transformer", privileged=False)


PRIVILEGED_CASES = [
    ("the expert by name", {"kind": "registry", "name": "expert", "kwargs": {}}),
    ("the expert in chunks", {"kind": "registry", "name": "expert", "kwargs": {"chunk": 4}}),
    ("vla_pro with the oracle state", {"kind": "registry", "name": "vla_pro",
                                       "kwargs": {"backbone": None, "bank": None, "state": "oracle"}}),
    ("vla_pro with the task retrieval", {"kind": "registry", "name": "vla_pro",
                                         "kwargs": {"backbone": None, "bank": None, "retrieval": "task"}}),
]


@pytest.mark.parametrize("load_spec", [c for _, c in PRIVILEGED_CASES], ids=[i for i, _ in PRIVILEGED_CASES])
def test_validate_refuses_a_privileged_policy_listed_as_unprivileged(board, load_spec):
    data = load(board / EXPERT)
    _unprivileged(data)
    data["load"] = {**load_spec, "fingerprint": None}
    save(board / EXPERT, data)
    report = check(board / EXPERT)
    assert "privileged" in report.codes, report.text()
    assert [p for p in report.problems if p.code == "privileged"][0].message.count("\n") == 0


def test_verify_refuses_a_rebuilt_policy_that_is_privileged(board):
    """The expert named as code the verifier chooses to import: only the rebuilt policy tells."""
    data = load(board / EXPERT)
    _unprivileged(data)
    data["load"] = {"kind": "module", "name": "vlapro_bench.policies.expert:make_expert_policy", "kwargs": {},
                    "fingerprint": None}
    save(board / EXPERT, data)
    assert check(board / EXPERT, require_records=True).ok  # nothing static gives it away
    with pytest.raises(VerifyError, match="privileged") as caught:
        verify_entry(board / EXPERT, protocol=small_protocol(), tasks=TASKS, policy=data["load"]["name"])
    assert "\n" not in str(caught.value)


def test_validate_refuses_records_of_a_policy_that_reported_privileged(board):
    records_path = board / "random.episodes.jsonl"
    records = parse_records(records_path.read_bytes(), "r")
    records = [r.model_copy(update={"extras": {"privileged": True}}) for r in records]
    records_path.write_bytes(canonical_bytes(records))
    data = load(board / RANDOM)
    data["records"]["sha256"] = records_sha256(records)
    save(board / RANDOM, data)
    assert check(board / RANDOM).codes == {"privileged"}


# -- weights arguments: confined to the entry's folder and fingerprinted ---------------------------------------------
WEIGHTS_CASES = [
    ("a bare file name", {"name": "replay", "kwargs": {"actions": "secret.npy"}}, "weights"),
    ("a bare folder name", {"name": "tinyvla", "kwargs": {"checkpoint": "ckpt"}}, "weights"),
    ("the old shipped VLA-Pro form", {"name": "vla_pro", "kwargs": {
        "backbone": "reproduce-robotwin-small-backbone", "bank": "reproduce-robotwin-small-bank"}}, "weights"),
    ("a published file without a fingerprint", {"name": "replay", "kwargs": {"actions": "published.npy"}},
     "weights"),
    ("a number for a file", {"name": "replay", "kwargs": {"actions": 3}}, "weights"),
    ("a traversal", {"name": "replay", "kwargs": {"actions": "../secret.npy"}, "fingerprint": "0" * 64}, "path"),
    ("an absolute path", {"name": "vla_pro", "kwargs": {"backbone": "/runs/tiny", "bank": None},
                          "fingerprint": "0" * 64}, "path"),
]


@pytest.mark.parametrize(("load_spec", "code"), [(spec, code) for _, spec, code in WEIGHTS_CASES],
                         ids=[i for i, _, _ in WEIGHTS_CASES])
def test_weights_arguments_must_be_published_in_the_folder_with_a_fingerprint(board, load_spec, code):
    (board / "published.npy").write_bytes(b"weights")  # a stray file is fine for this check
    data = load(board / RANDOM)
    data["load"] = {"kind": "registry", "fingerprint": None, **load_spec}
    save(board / RANDOM, data)
    report = validate_entry(board / RANDOM, protocol=small_protocol(), tasks=TASKS)
    assert code in report.codes, report.text()
    assert any(p.message.startswith("load.") for p in report.problems if p.code == code)


@pytest.mark.parametrize("kwargs", [{"backbone": None, "bank": None, "k": 2},
                                    {"backbone": "https://example.org/tiny.tar", "bank": None}])
def test_unpublished_or_downloadable_weights_validate(board, kwargs):
    data = load(board / RANDOM)
    fingerprint = "0" * 64 if any(isinstance(v, str) for v in kwargs.values()) else None
    data["load"] = {"kind": "registry", "name": "vla_pro", "kwargs": kwargs, "fingerprint": fingerprint}
    save(board / RANDOM, data)
    assert check(board / RANDOM).ok, check(board / RANDOM).text()


@pytest.fixture
def replay_run(tmp_path_factory) -> tuple[Path, Path]:
    """An evaluation of the replay policy (a weights-bearing registry policy that needs no torch):
    ``(run folder, the actions file it loaded)``."""
    base = tmp_path_factory.getbasetemp()
    finished_runs(base)  # the expert filter's cache
    root = base / "replay-run"
    actions, run = root / "actions.npy", root / "run"
    if not (root / "done").exists():
        root.mkdir(exist_ok=True)
        env = make_env(list(TASKS), "robotwin", obs_mode="state")
        env.action_space.seed(0)
        np.save(actions, np.stack([env.action_space.sample() for _ in range(40)]).astype(np.float32))
        env.close()
        settings = EvalSettings(policy="replay", policy_kwargs={"actions": str(actions)}, tasks=TASKS,
                                protocol=small_protocol(), obs_mode="state")
        evaluate(settings, run, cache_dir=base / "leaderboard-runs" / "cache", progress=False)
        (root / "done").touch()
    return run, actions


def test_verify_reads_weights_from_the_entry_folder_and_checks_their_fingerprint(tmp_path, replay_run, monkeypatch):
    run, actions = replay_run
    root = tmp_path / "lb"
    folder = root / "robotwin-unseen"
    folder.mkdir(parents=True)
    shutil.copy(actions, folder / "actions.npy")
    done = submit(run, write_card(tmp_path, "random", name="Replay"), root, protocol=small_protocol(), tasks=TASKS,
                  policy_args={"actions": "actions.npy"})
    assert done.entry.load.kwargs["actions"] == "actions.npy"
    assert done.entry.load.fingerprint == weights_fingerprint({"actions": actions})

    workdir = tmp_path / "maintainer"
    workdir.mkdir()
    np.save(workdir / "actions.npy", np.zeros((5, 3), dtype=np.float32))  # what the old verify read instead
    monkeypatch.chdir(workdir)
    result = verify_entry(done.entry_path, protocol=small_protocol(), tasks=TASKS)
    assert result.ok, result.text()

    np.save(folder / "actions.npy", np.zeros((40, 14), dtype=np.float32))  # other weights under the same name
    with pytest.raises(VerifyError, match="not the same policy"):
        verify_entry(done.entry_path, protocol=small_protocol(), tasks=TASKS)

    unpublished = submit(run, write_card(tmp_path, "random", name="Replay, unpublished"), root,  # actions=null
                         protocol=small_protocol(), tasks=TASKS, policy_args={"actions": None})
    assert unpublished.entry.load.kwargs["actions"] is None and unpublished.entry.load.fingerprint is None
    with pytest.raises(VerifyError, match="does not publish"):
        verify_entry(unpublished.entry_path, protocol=small_protocol(), tasks=TASKS)


def test_verify_never_reads_an_entry_argument_from_the_working_directory(board, tmp_path, monkeypatch):
    data = load(board / RANDOM)
    data["load"] = {"kind": "module", "name": "vlapro_bench.policies.random_policy:make_random_policy",
                    "kwargs": {"seed": 0, "note": "secret.npy"}, "fingerprint": None}
    save(board / RANDOM, data)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "secret.npy").write_bytes(b"maintainer's file")
    with pytest.raises(VerifyError, match="working directory"):
        verify_entry(board / RANDOM, protocol=small_protocol(), tasks=TASKS, policy=data["load"]["name"])


# -- a verification sample the submitter cannot predict -------------------------------------------------------------
def _old_predictable_sample(records, k: int, seed: int = 0) -> list[EpisodeRecord]:
    """The sample verify drew before issue 17 (seed 0 unless told otherwise, round-robin over
    tasks): anyone could compute it and leave exactly those episodes honest."""
    rng = np.random.default_rng(seed)
    by_task: dict[str, list[EpisodeRecord]] = {}
    for record in sorted(records, key=lambda r: (r.task, r.seed)):
        by_task.setdefault(record.task, []).append(record)
    queues = [[recs[i] for i in rng.permutation(len(recs))] for _, recs in sorted(by_task.items())]
    chosen: list[EpisodeRecord] = []
    while len(chosen) < k and any(queues):
        for queue in queues:
            if queue and len(chosen) < k:
                chosen.append(queue.pop(0))
    return chosen


def _forge(records, claimed: float, rng, predictable: int) -> tuple[list[EpisodeRecord], set]:
    """Successes flipped on outside the old predictable sample until ``claimed`` of the episodes
    claim one: ``(forged records, keys of the forged episodes)``."""
    honest = {r.key for r in _old_predictable_sample(records, predictable)}
    candidates = [r for r in records if not r.success and r.key not in honest]
    need = round(claimed * len(records)) - sum(r.success for r in records)
    flipped = {candidates[i].key for i in rng.choice(len(candidates), need, replace=False)}
    return [r.model_copy(update={"success": True}) if r.key in flipped else r for r in records], flipped


def _caught_by_default_verify(records, flipped: set) -> bool:
    """Whether the sample verify draws by default (fresh seed, default size) re-runs a forged
    episode: a forged success replays as the failure it was, so re-running it is catching it."""
    sample = select_episodes(records, sample_size(len(records)), draw_sample_seed())
    return any(r.key in flipped for r in sample)


@pytest.mark.parametrize(("records_file", "old_sample"), [
    ("robotwin-unseen/random.episodes.jsonl", 10),  # robotwin-v0: 1000 episodes, 9 true successes (0.9%)
    ("robotwin-unseen/random-small.episodes.jsonl", 10),  # robotwin-v0-small: 40 episodes, 1 true success (2.5%)
])
def test_forged_random_entries_claiming_75_percent_are_caught_in_95_of_100_attempts(records_file, old_sample):
    """Issue 17's forgery: the random policy's records claimed at 75%, honest where the old
    `verify --episodes 10` looked. The old sample misses every attempt; the default one catches."""
    records = parse_records((SHIPPED / records_file).read_bytes(), "records")
    rng = np.random.default_rng(17)
    caught = old_caught = 0
    for _ in range(100):
        forged, flipped = _forge(records, 0.75, rng, old_sample)
        caught += _caught_by_default_verify(forged, flipped)
        old_caught += any(r.key in flipped for r in _old_predictable_sample(forged, old_sample))
    assert old_caught == 0
    assert caught >= 95, f"caught {caught} of 100"


def test_the_sampler_catches_a_forgery_as_often_as_the_hypergeometric_says():
    """A subtler forgery (a quarter of the claimed successes made up) on a synthetic 1000-episode
    run: the default sample's catch rate is the analytic one, and above 95%."""
    base = parse_records((SHIPPED / "robotwin-unseen/random.episodes.jsonl").read_bytes(), "records")
    records = [r.model_copy(update={"success": i % 10 < 3}) for i, r in enumerate(base)]  # 300 true successes
    rng = np.random.default_rng(0)
    failures = [r.key for r in records if not r.success]
    flipped = {failures[i] for i in rng.choice(len(failures), 100, replace=False)}  # 100 of 400 claimed forged
    forged = [r.model_copy(update={"success": True}) if r.key in flipped else r for r in records]
    drawn, _ = split_sample(400, 600, sample_size(1000))
    expected = 1 - escape_probability(400, 100, drawn)
    assert drawn == 12 and expected > 0.95
    trials = 1000
    measured = sum(_caught_by_default_verify(forged, flipped) for _ in range(trials)) / trials
    assert abs(measured - expected) < 0.03, (measured, expected)


def test_the_sample_is_weighted_toward_successes_and_sized_by_the_run():
    base = parse_records((SHIPPED / "robotwin-unseen/random.episodes.jsonl").read_bytes(), "records")
    records = [r.model_copy(update={"success": i % 10 == 0}) for i, r in enumerate(base)]  # 100 of 1000
    sample = select_episodes(records, DEFAULT_SAMPLE_EPISODES, seed=3)
    assert sum(r.success for r in sample) == 12 and len(sample) == DEFAULT_SAMPLE_EPISODES
    assert sample == select_episodes(records, DEFAULT_SAMPLE_EPISODES, seed=3)  # the printed seed repeats it
    assert sample_size(1000) == DEFAULT_SAMPLE_EPISODES and sample_size(1000, 40) == 40
    assert sample_size(WHOLE_RUN_EPISODES) == WHOLE_RUN_EPISODES and sample_size(40, 5) == 5
    assert split_sample(3, 997, 16) == (3, 13) and split_sample(500, 2, 16) == (14, 2)
    assert len({draw_sample_seed() for _ in range(5)}) == 5


@pytest.fixture
def longer_random_run(tmp_path_factory) -> tuple[Path, object]:
    """The random policy on the two test tasks with 4 episodes each (8 > the old default sample of 5)."""
    base = tmp_path_factory.getbasetemp()
    finished_runs(base)
    protocol = small_protocol().with_overrides(name="robotwin-v0-test4", episodes_per_task=4)
    run = base / "random-4" / "run"
    if not (run.parent / "done").exists():
        settings = EvalSettings(policy="random", tasks=TASKS, protocol=protocol, obs_mode="state")
        evaluate(settings, run, cache_dir=base / "leaderboard-runs" / "cache", progress=False)
        (run.parent / "done").touch()
    return run, protocol


def test_default_verify_catches_a_forgery_made_outside_the_old_predictable_sample(tmp_path, longer_random_run):
    run, protocol = longer_random_run
    done = submit(run, write_card(tmp_path, "random"), tmp_path / "lb", protocol=protocol, tasks=TASKS)
    records = parse_records(done.records_path.read_bytes(), "records")
    honest = {r.key for r in _old_predictable_sample(records, 5)}  # what the old default re-ran
    forged = [r.model_copy(update={"success": True}) if r.key not in honest else r for r in records]
    flipped = {r.key for r, o in zip(forged, records) if r.success != o.success}
    assert flipped
    done.records_path.write_bytes(canonical_bytes(forged))
    data = load(done.entry_path)
    for task in TASKS:
        k = sum(r.success for r in forged if r.task == task)
        data["tasks"][task] = task_result(k, 4).model_dump(mode="json")
    data["average"] = average_result([(r["successes"], 4) for r in data["tasks"].values()]).model_dump(mode="json")
    data["records"]["sha256"] = records_sha256(forged)
    save(done.entry_path, data)
    assert check(done.entry_path, protocol=protocol, require_records=True).ok  # consistent, so only a re-run tells

    result = verify_entry(done.entry_path, protocol=protocol, tasks=TASKS)
    assert len(result.episodes) == len(records)  # a small run is re-run whole
    assert {(c.task, c.seed) for c in result.mismatches} == flipped
    assert f"--sample-seed {result.sample_seed}" in result.text()
    again = verify_entry(done.entry_path, 3, protocol=protocol, tasks=TASKS, sample_seed=result.sample_seed)
    same = verify_entry(done.entry_path, 3, protocol=protocol, tasks=TASKS, sample_seed=result.sample_seed)
    assert [(c.task, c.seed) for c in again.episodes] == [(c.task, c.seed) for c in same.episodes]
    assert sum(c.recorded["success"] for c in again.episodes) == 3  # claimed successes first, mostly forged
    assert not again.ok


def test_cli_verify_prints_its_fresh_seed_and_takes_it_back(board, tmp_path, monkeypatch):
    monkeypatch.setattr(validate_module, "split_tasks", lambda suite, split, version, line="": TASKS)
    protocol_file = tmp_path / "protocol.json"
    protocol_file.write_text(small_protocol().model_dump_json())
    runner = CliRunner()
    seeds = []
    for _ in range(2):
        result = runner.invoke(leaderboard_app, ["verify", str(board / RANDOM), "--protocol", str(protocol_file)])
        assert result.exit_code == 0, result.output
        assert "re-ran every recorded episode" in result.output
        seeds.append(int(result.output.split("--sample-seed ")[1].split(")")[0]))
    assert seeds[0] != seeds[1]
    result = runner.invoke(leaderboard_app, ["verify", str(board / RANDOM), "--protocol", str(protocol_file),
                                             "--episodes", "2", "--seed", str(seeds[0])])
    assert result.exit_code == 0 and f"sample seed {seeds[0]}" in result.output, result.output
    assert "a sample of 2 of 4 recorded episodes" in result.output


# -- settings validate accepted but verify could not run ------------------------------------------------------------
SETTINGS_CASES = [
    ("a camera of the other suite", "cameras", ["wrist"]),
    ("no camera", "cameras", []),
    ("a size over the renderer's limit", "camera_size", [4096, 4096]),
    ("a control mode of the other suite", "control_mode", "joint_delta"),
]


@pytest.mark.parametrize(("key", "value"), [(k, v) for _, k, v in SETTINGS_CASES],
                         ids=[i for i, _, _ in SETTINGS_CASES])
def test_settings_the_environment_refuses_are_refused_by_validate(board, key, value):
    data = load(board / RANDOM)
    data["evaluation"][key] = value
    save(board / RANDOM, data)
    report = check(board / RANDOM)
    assert report.codes == {"settings"}, report.text()
    assert f"evaluation.{key}" in report.text()


def test_verify_reports_a_policy_it_cannot_build_in_one_line(board):
    data = load(board / RANDOM)
    data["load"]["kwargs"] = {"temperature": 2}  # the random policy takes no such argument
    save(board / RANDOM, data)
    assert check(board / RANDOM).ok
    with pytest.raises(VerifyError, match="cannot rebuild") as caught:
        verify_entry(board / RANDOM, protocol=small_protocol(), tasks=TASKS)
    assert "\n" not in str(caught.value)
