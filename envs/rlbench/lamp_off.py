"""lamp_off: press the button on the lamp's base to switch the lamp off.

Description:
    A small table lamp stands on the table, its bulb lit: a base with a red push button at its
    front, a post at its back carrying a bare bulb. The Panda closes its gripper, comes down on
    the button and presses it; the bulb goes dark (RLBench ``lamp_off``).
Action space / observation space:
    See :class:`vlapro_bench.env.VLAProEnv` (RLBench suite: 8-d ``joint_delta`` by default).
    The bulb's state is part of the images: bright warm yellow with a translucent glow round it
    while lit, dark grey glass once off (RLBench recolours its ``bulb`` shape white to black).
Success:
    ``button_pressed``: the button's prismatic joint more than 3 mm below its rest position.
    The press switches the lamp off for the rest of the episode, the button springing back or
    not. **Fidelity:** RLBench: ``JointCondition(target_button_joint, 0.003)``, the bulb turned
    black by the task's ``step`` once it holds; ours: the same condition and threshold, the
    bulb turned dark grey (and its glow hidden) at the control step the condition first holds.
Starting state:
    The lamp is on. The task base (the lamp base's centre on the table) is placed uniformly in
    the workspace (x 0.05..0.45, y -0.3..0.3) with a yaw in [-pi, pi] (RLBench's default
    rotation bounds); placements where the press has no collision-free IK solution are drawn
    again, as RLBench does.
Geometry:
    As ``lamp_on`` (:mod:`vlapro_bench.envs.rlbench._lamp`): a 0.17 x 0.11 x 0.025 m base, a red
    button 36 mm across 8 mm proud of it on a spring (7 mm of travel), a post 5 cm behind the
    base centre up to 0.15 m, a socket and a 64 mm bulb centred 0.205 m up.
Variations:
    1 (as in RLBench).
Episode end:
    Success, or 110 control steps (5.5 s at 20 Hz; the expert needs at most 69 on seeds 0-49 and
    100000-100049). With 120 steps a random arm pressed the button in 1 of 50 seeds (at step
    119), so the limit is 1.6x the expert's longest episode.
Version history:
    v0: first version.
"""

from __future__ import annotations

from vlapro_bench.registry import ProceduralAnnotation, register_task

from ._lamp import LampTask


@register_task
class LampOff(LampTask):
    spec = LampTask.spec_for(
        name="lamp_off",
        max_episode_steps=110,
        procedure=ProceduralAnnotation("press", "button", "downward", "top_centre"),
        description="Press the button on the lamp's base to switch the lamp off.",
    )
    instructions = {
        "seen": (
            "switch the light off",
            "push the lamp's button to switch it off",
            "press the lamp switch",
            "switch off the lamp",
            "with the gripper closed, push down on the button until the bulb goes dark",
        ),
        "unseen": (
            "that bulb is wasting power: make it stop glowing",
            "give the little red knob on the lamp stand a tap so it goes out",
        ),
    }
    starts_lit = True
