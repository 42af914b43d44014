"""The task contract: a small set of hooks that one task file fills in.

A task builds its props into the scene once (``build_scene``), randomises them per episode from
a seeded generator (``initialize_episode``), says when it is solved and which of its conditions
hold (``check_success``), scripts an expert (``expert``), and reports the ground-truth
procedural state (``procedural_state``). The environment class owns everything else (spaces,
cameras, stepping, validation). Each suite has a base class over :class:`Task` with its
defaults (``vlapro_bench.envs.robotwin._common.RoboTwinTask``,
``vlapro_bench.envs.rlbench._common.RLBenchTask``).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike

from vlapro_bench.layout_draws import Layout, draw_layout
from vlapro_bench.sim.builder import SceneBuilder
from vlapro_bench.sim.motion import Motion
from vlapro_bench.sim.physics import Simulation
from vlapro_bench.task_spec import ProceduralAnnotation, ProceduralState, TaskSpec, task_ref

INSTRUCTION_POOLS = ("seen", "unseen")
#: Instruction sets: 0 is every task's original pools (``Task.instructions``), which the v0
#: protocols were measured with and which never change; 1 is RoboTwin 2.0's scale (at least 50
#: seen and 10 unseen templates per task, objects named by descriptions drawn per episode, unseen
#: descriptions at evaluation). A protocol names the set it evaluates with.
INSTRUCTION_SETS = (0, 1)
#: Maximum number of tracked objects in ``object_state`` (7 numbers each: xyz + wxyz quat).
MAX_TRACKED_OBJECTS = 4
#: The key of :meth:`Task.check_success`'s result that decides the episode.
SUCCESS = "success"


def all_of(**conditions: bool | np.bool_) -> dict[str, bool]:
    """Named success conditions plus ``"success"``, which holds when all of them do.

    What :meth:`Task.check_success` returns (as ManiSkill's ``evaluate()`` does): the step's
    ``info["success_conditions"]`` carries it, so a failed episode says which condition failed.
    Every condition is evaluated (no short-circuit), so each one is reported.
    """
    named = {name: bool(value) for name, value in conditions.items()}
    if SUCCESS in named:
        raise ValueError(f"{SUCCESS!r} is computed from the named conditions; do not pass it")
    return {**named, SUCCESS: all(named.values())}


def success_conditions(result: bool | np.bool_ | Mapping[str, bool]) -> dict[str, bool]:
    """``check_success``'s result as a conditions dict; a task that still returns a bare boolean
    (an out-of-tree task written before named conditions) reports it as ``{"success": ...}``."""
    if isinstance(result, Mapping):
        if SUCCESS not in result:
            raise ValueError(f"check_success returned {sorted(result)} without a {SUCCESS!r} key; "
                             f"build it with all_of()")
        return {name: bool(value) for name, value in result.items()}
    return {SUCCESS: bool(result)}


class Task:
    """Base class of every embedded task. Subclasses set ``spec`` and the instruction pools.

    Tasks derive from their suite's base (``RoboTwinTask``, ``RLBenchTask``), which sets
    ``suite``, ``default_arms`` and ``placement_attempt_limit``; :meth:`spec_for` then fills the
    suite and the arms into a task's spec.
    """

    spec: ClassVar[TaskSpec]
    #: Instruction templates; ``{placeholders}`` are filled from ``initialize_episode``'s dict.
    instructions: ClassVar[dict[str, Sequence[str]]]
    #: Instruction sets after 0 (see :data:`INSTRUCTION_SETS`): set number -> pools like
    #: ``instructions``. A task without an entry for a set uses ``instructions`` there (tasks
    #: written at upstream scale from the start have one set).
    instruction_sets: ClassVar[Mapping[int, Mapping[str, Sequence[str]]]] = {}
    #: Object descriptions for sets after 0: placeholder -> pool -> description templates, one
    #: drawn per episode and formatted with ``initialize_episode``'s dict (``"{colour} bell"``).
    #: Unseen descriptions use words no seen one uses, as RoboTwin 2.0's held-out descriptions.
    descriptions: ClassVar[Mapping[str, Mapping[str, Sequence[str]]]] = {}
    #: Bodies whose poses form ``object_state`` (at most MAX_TRACKED_OBJECTS); a task that
    #: tracks other props per episode sets it on the instance in ``initialize_episode``.
    tracked_bodies: Sequence[str] = ()
    #: Number of variations (RLBench's ``variation_count()``: colours, which drawer...), or None
    #: for a task without numbered variations. ``initialize_episode`` sets ``self.variation``
    #: (drawn from the episode's generator); the environment reports it in ``info["variation"]``.
    variation_count: ClassVar[int | None] = None
    #: The suite a base class stands for (None on this bare base).
    suite: ClassVar[str | None] = None
    #: The arms of the suite's robot; a task's ``spec.arms`` must be among them.
    default_arms: ClassVar[tuple[str, ...]] = ()
    #: The benchmark a suite's tasks come from, unless a task's spec says otherwise.
    default_origin: ClassVar[str] = ""
    #: Layout draws :meth:`draw_layout` allows before it refuses the episode.
    placement_attempt_limit: ClassVar[int] = 40
    #: The acting arm: fixed by the suite (RLBench's ``"panda"``) or chosen per episode.
    arm: str

    def __init__(self) -> None:
        self.episode: dict[str, str] = {}
        self.variation = 0
        self._tracked_ids: dict[tuple, list[int]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        """Refuse a spec whose suite or arms do not match the suite base the task derives from."""
        super().__init_subclass__(**kwargs)
        spec = cls.__dict__.get("spec")
        if spec is None or cls.suite is None:
            return
        if spec.suite != cls.suite:
            raise ValueError(f"{cls.__name__} derives from the {cls.suite} base but its spec says suite={spec.suite!r}")
        unknown = set(spec.arms) - set(cls.default_arms)
        if unknown:
            raise ValueError(f"{cls.__name__}: arms {sorted(unknown)} are not arms of the {cls.suite} robot "
                             f"{cls.default_arms}")

    @classmethod
    def spec_for(
        cls,
        name: str,
        max_episode_steps: int,
        procedure: ProceduralAnnotation,
        description: str,
        *,
        arms: tuple[str, ...] | None = None,
        tags: tuple[str, ...] = (),
        version: int = 0,
        origin: str | None = None,
    ) -> TaskSpec:
        """A :class:`TaskSpec` with this base's suite, and its arms unless ``arms`` names fewer.

        ``name`` is upstream's task name; ``version`` above 0 makes the registry name
        ``<name>-v<version>`` (a new version of a task registers beside the old one).

        ``origin`` defaults to the base's benchmark (:attr:`default_origin`); a task that is not
        one of that benchmark's tasks says where it comes from instead.
        """
        if cls.suite is None:
            raise TypeError(f"{cls.__name__} has no suite: derive the task from a suite base "
                            f"(RoboTwinTask, RLBenchTask)")
        return TaskSpec(name=task_ref(name, version), suite=cls.suite, max_episode_steps=max_episode_steps,
                        procedure=procedure, description=description,
                        arms=arms if arms is not None else cls.default_arms, tags=tags, version=version,
                        origin=origin if origin is not None else cls.default_origin)

    # -- hooks ------------------------------------------------------------------------------
    def build_scene(self, scene: SceneBuilder) -> None:
        raise NotImplementedError

    def initialize_episode(self, sim: Simulation, rng: np.random.Generator) -> dict[str, str]:
        """Place and colour the props; return the values for the instruction placeholders."""
        raise NotImplementedError

    def check_success(self, sim: Simulation) -> dict[str, bool]:
        """The named conditions of success plus ``"success"``: build it with :func:`all_of`."""
        raise NotImplementedError

    def expert(self, sim: Simulation, motion: Motion) -> Iterator[np.ndarray]:
        raise NotImplementedError

    def procedural_state(self, sim: Simulation) -> ProceduralState:
        raise NotImplementedError

    # -- helpers for the hooks --------------------------------------------------------------
    def state_from_spec(
        self,
        sim: Simulation,
        target_point: ArrayLike,
        stage: str | None = None,
        *,
        action_type: str | None = None,
        object_geometry: str | None = None,
        arm: str | None = None,
    ) -> ProceduralState:
        """The procedural state with what the spec's annotation already says filled in.

        ``action_type`` and ``object_geometry`` default to the spec's procedure, ``arm`` to the
        acting arm, ``stage`` to the action type; the end-effector orientation is that arm's TCP.
        A task passes only what its current stage changes.
        """
        procedure = self.spec.procedure
        action = action_type if action_type is not None else procedure.action_type
        acting = arm if arm is not None else self.arm
        return ProceduralState(
            action_type=action,
            object_geometry=object_geometry if object_geometry is not None else procedure.object_geometry,
            ee_orientation=sim.tcp_quat(acting),
            target_point=np.asarray(target_point, dtype=float),
            arm=acting,
            stage=stage if stage is not None else action,
        )

    def draw_layout(self, draw: Callable[[], Layout | None], limit: int | None = None) -> Layout:
        """Call ``draw`` until it returns a layout (not None), at most ``limit`` times (default:
        the suite's ``placement_attempt_limit``); then refuse the episode with a
        :class:`~vlapro_bench.layout_draws.PlacementError`."""
        return draw_layout(self.spec.name, draw, limit if limit is not None else self.placement_attempt_limit)

    # -- shared behaviour -------------------------------------------------------------------
    def instruction(self, pool: str, rng: np.random.Generator, instruction_set: int = 0) -> str:
        """Draw this episode's instruction from ``pool`` of ``instruction_set``.

        Set 0 draws one integer from ``rng``, as it always has, so the v0 protocols' episodes keep
        their instructions. Later sets then draw one description per described placeholder.
        """
        if pool not in INSTRUCTION_POOLS:
            raise ValueError(f"instruction_pool must be one of {INSTRUCTION_POOLS}, got {pool!r}")
        if instruction_set not in INSTRUCTION_SETS:
            raise ValueError(f"instruction_set must be one of {INSTRUCTION_SETS}, got {instruction_set!r}")
        templates = self.instruction_pools(instruction_set)[pool]
        template = templates[int(rng.integers(len(templates)))]
        if instruction_set == 0:
            return template.format(**self.episode)
        values = dict(self.episode)
        for name in template_fields(template):
            if name in self.descriptions:
                options = self.descriptions[name][pool]
                values[name] = options[int(rng.integers(len(options)))].format(**self.episode)
        return template.format(**values)

    @classmethod
    def instruction_pools(cls, instruction_set: int) -> Mapping[str, Sequence[str]]:
        """The seen and unseen templates of ``instruction_set`` (``instructions`` where it has none)."""
        return cls.instruction_sets.get(instruction_set, cls.instructions) if instruction_set else cls.instructions

    def object_state(self, sim: Simulation) -> np.ndarray:
        key = (id(sim), tuple(self.tracked_bodies))  # some tasks track different props per episode
        ids = self._tracked_ids.get(key)
        if ids is None:  # body ids, looked up once (this runs every step)
            ids = self._tracked_ids[key] = [sim.body_id(b) for b in self.tracked_bodies[:MAX_TRACKED_OBJECTS]]
        out = np.zeros(7 * MAX_TRACKED_OBJECTS, dtype=np.float32)
        xpos, xquat = sim.data.xpos, sim.data.xquat
        for i, body in enumerate(ids):
            out[7 * i : 7 * i + 3] = xpos[body]
            out[7 * i + 3 : 7 * i + 7] = xquat[body]
        return out


INSTRUCTION_CHARSET = frozenset(string.ascii_letters + string.digits + " ,.;:'-!?()/&")


def check_instruction_templates(task_cls: type[Task]) -> None:
    """Refuse templates with characters outside the ``Text`` space or a missing pool."""
    for pool in INSTRUCTION_POOLS:
        templates = task_cls.instructions.get(pool, ())
        if not templates:
            raise ValueError(f"{task_cls.spec.name}: no {pool!r} instruction templates")
        for template in templates:
            bad = set(template.replace("{", "").replace("}", "").replace("_", "")) - INSTRUCTION_CHARSET
            if bad:
                raise ValueError(f"{task_cls.spec.name}: template {template!r} uses {sorted(bad)}")
    seen, unseen = set(task_cls.instructions["seen"]), set(task_cls.instructions["unseen"])
    if seen & unseen:
        raise ValueError(f"{task_cls.spec.name}: templates in both pools: {sorted(seen & unseen)}")
    for number, pools in task_cls.instruction_sets.items():
        if number not in INSTRUCTION_SETS or number == 0:
            raise ValueError(f"{task_cls.spec.name}: instruction set {number} is not one of {INSTRUCTION_SETS[1:]}")
        for pool in INSTRUCTION_POOLS:
            for template in pools.get(pool, ()):
                bad = set(template.replace("{", "").replace("}", "").replace("_", "")) - INSTRUCTION_CHARSET
                if bad:
                    raise ValueError(f"{task_cls.spec.name}: set {number} template {template!r} uses {sorted(bad)}")
        if not pools.get("seen") or not pools.get("unseen") or set(pools["seen"]) & set(pools["unseen"]):
            raise ValueError(f"{task_cls.spec.name}: instruction set {number} needs disjoint, non-empty seen and "
                             f"unseen pools")
    for name, pools in task_cls.descriptions.items():
        if not pools.get("seen") or not pools.get("unseen"):
            raise ValueError(f"{task_cls.spec.name}: descriptions of {{{name}}} need seen and unseen entries")
        shared = set(pools["seen"]) & set(pools["unseen"])
        if shared:
            raise ValueError(f"{task_cls.spec.name}: descriptions of {{{name}}} in both pools: {sorted(shared)}")


def template_fields(template: str) -> list[str]:
    """The placeholder names of a format template, in order (``"Put {A} on {B}"`` -> ``["A", "B"]``)."""
    return [field for _, field, _, _ in string.Formatter().parse(template) if field]
