"""``vla_pro``: any backbone that follows the backbone contract, plus a procedural-memory bank.

Before every action chunk the policy builds the current procedural state, scores it against
every memory of the bank, fuses the top-k memories' LoRAs (softmax weights) on top of the
backbone (and the base LoRA, when the bank keeps it), predicts the chunk, and unloads the
fusion again (VLA-Pro's "load the fused adapter, execute the current chunk, unload it").

Where the backbone offers a visual tap (tinyvla does; see
:mod:`vlapro_bench.memory.contract`), retrieval runs inside the chunk's forward pass, right
after the CNN and before the first adapted linear, so the CNN runs once per chunk. Otherwise the
policy calls ``visual_features`` first. The retrieved memories and weights of every chunk are
kept and returned by :meth:`VLAProPolicy.episode_record`, which the evaluator calls after each
episode.

``state="oracle"`` retrieves with the simulator's ground-truth procedural state: the policy is
then ``privileged`` and says so in every record; use it for analysis only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from vlapro_bench.memory.bank import MemoryBank, load_bank
from vlapro_bench.memory.build import instruction_embedder
from vlapro_bench.memory.contract import find_visual_tap
from vlapro_bench.memory.state import (
    PRIVILEGED_VARIANTS,
    InteractionHistory,
    QueryEncoder,
    as_two_arm_pose,
    oracle_fields,
    visible_fields,
)
from vlapro_bench.registry import TaskSpec


class VLAProPolicy:
    """A backbone with procedural memory: retrieve, fuse, predict, unload, once per chunk.

    Arguments:
        backbone: a model following the backbone contract (``predict_action_chunk``,
            ``visual_features``, ``config``); its fingerprint must match the bank's.
        bank: the verified memory bank.
        k: memories fused per chunk (the paper's best is 2); 0 runs the backbone with the base
            LoRA only (an ablation: "fine-tuned on the seen tasks, no retrieval").
        temperature: softmax temperature (default: the bank's).
        execute: actions executed from each predicted chunk before the next retrieval.
        state: ``"visible"`` (policy-visible fields) or ``"oracle"`` (ground truth; privileged).
        env: the environment; needed (and read) only by the oracle.
    """

    def __init__(self, backbone: nn.Module, bank: MemoryBank, k: int = 2, temperature: float | None = None,
                 execute: int | None = 8, state: str = "visible", env: gym.Env | None = None):
        if state not in bank.variants:
            raise ValueError(f"state={state!r}: the bank has keys for {bank.variants}")
        bank.check_backbone(backbone)
        horizon = int(backbone.config.chunk_size)
        self.execute = horizon if execute is None else int(execute)
        if not 1 <= self.execute <= horizon:
            raise ValueError(f"execute must be in 1..{horizon}, got {execute}")
        if state in PRIVILEGED_VARIANTS and env is None:
            raise ValueError("the oracle state reads the simulator: pass env")
        self.backbone, self.bank, self.k, self.state = backbone.eval(), bank, int(k), state
        self.privileged = state in PRIVILEGED_VARIANTS
        self.env = env.unwrapped if env is not None else None
        self.fusion = bank.fusion(backbone, self.k)
        self.retriever = bank.retriever(state, self.k, temperature) if self.k > 0 else None
        self.query_encoder = QueryEncoder(bank.projections[state])
        self.history = InteractionHistory(int(backbone.config.action_dim))
        self._embed = instruction_embedder(backbone)
        self._instruction: tuple[str, torch.Tensor] | None = None
        self._pending: dict[str, Any] | None = None
        self._tap = find_visual_tap(backbone) if state == "visible" and self.k > 0 else None
        self._tap_handle = self._tap.module.register_forward_hook(self._on_visual) if self._tap else None
        self._retrievals: list[list[dict[str, Any]]] = []
        self._names = bank.memory_names  # once: a 10,000-memory bank must not rebuild it per chunk

    # -- the policy contract ----------------------------------------------------------------------
    def reset(self, instruction: str, task_spec: TaskSpec | None) -> None:
        backbone_reset = getattr(self.backbone, "reset", None)
        if callable(backbone_reset):  # LeRobot policies clear their action queues here
            backbone_reset()
        self.history.reset()
        self._retrievals = []
        self._instruction_embedding(instruction)

    def act(self, observation: dict[str, Any]) -> np.ndarray:
        ee_now = np.asarray(observation["ee_pose"], dtype=np.float32)
        try:
            if self.k == 0:
                self.fusion.set_base_only()
            elif self.state == "visible":
                self._pending = self._visible_inputs(observation, ee_now)
                if self._tap is None:
                    with torch.inference_mode():
                        visual = self.backbone.visual_features(_single_batch(observation))
                    self._retrieve_visible(visual)
            else:
                self._retrieve(self._oracle_query())
            chunk = self.backbone.predict_action_chunk(observation)
            if self._pending is not None:
                raise RuntimeError("the backbone's visual tap did not fire during predict_action_chunk; "
                                   "its visual_feature_tap() names a module the forward pass does not run")
        finally:
            self._pending = None
            self.fusion.clear()
        chunk = np.asarray(chunk)[: self.execute]
        self._record()
        self.history.record(ee_now, chunk)
        return chunk

    def episode_record(self) -> dict[str, Any]:
        """JSON-ready record of the episode: per chunk, the memories fused and their weights."""
        return {
            "method": "vla_pro",
            "state_encoder": f"{self.state} (privileged)" if self.privileged else self.state,
            "privileged": self.privileged,
            "k": self.k,
            "temperature": self.retriever.temperature if self.retriever is not None else None,
            "bank": str(self.bank.root) if self.bank.root is not None else None,
            "backbone_fingerprint": self.bank.index.backbone.fingerprint,
            "retrievals": [list(chunk) for chunk in self._retrievals],
        }

    def close(self) -> None:
        """Remove the visual tap and detach the fusion: the backbone computes exactly its own outputs again."""
        if self._tap_handle is not None:
            self._tap_handle.remove()
            self._tap_handle = None
        self.fusion.detach()

    # -- retrieval ----------------------------------------------------------------------------------
    def _instruction_embedding(self, text: str) -> torch.Tensor:
        if self._instruction is None or self._instruction[0] != text:
            self._instruction = (text, self._embed([text]).float().reshape(1, -1))
        return self._instruction[1]

    def _visible_inputs(self, observation: dict[str, Any], ee_now: np.ndarray) -> dict[str, Any]:
        ee_prev, steps, grip_cmd = self.history.window(ee_now)
        text = str(observation.get("instruction", self._instruction[0] if self._instruction else ""))
        return {"instruction": self._instruction_embedding(text), "ee_now": as_two_arm_pose(ee_now.reshape(1, -1)),
                "ee_prev": ee_prev, "steps": steps, "grip_cmd": grip_cmd}

    def _on_visual(self, module: nn.Module, args: tuple, output: torch.Tensor) -> None:
        if self._pending is None or self._tap is None:
            return None
        self._retrieve_visible(self._tap.pool(output, 1))
        return None

    def _retrieve_visible(self, visual: torch.Tensor) -> None:
        p = self._pending
        assert p is not None
        self._pending = None
        raw = visible_fields(p["instruction"], visual.reshape(1, -1).cpu(), p["ee_now"], p["ee_prev"], p["steps"],
                             p["grip_cmd"])
        self._retrieve(raw)

    def _oracle_query(self) -> dict[str, torch.Tensor]:
        assert self.env is not None
        state = self.env.task.procedural_state(self.env.sim).as_dict()
        return oracle_fields([state], self._embed)

    def _retrieve(self, raw: dict[str, torch.Tensor]) -> None:
        assert self.retriever is not None
        memories, weights = self.retriever.retrieve(self.query_encoder.encode(raw))
        self.fusion.set(memories, weights)

    def _record(self) -> None:
        if self.retriever is None:
            self._retrievals.append([])
            return
        names = self._names
        self._retrievals.append([
            {"memory": names[i], "weight": round(float(w), 6), "score": round(float(s), 6)}
            for i, w, s in zip(self.retriever.top_memories.tolist(), self.retriever.weights.tolist(),
                               self.retriever.top_scores.tolist())
        ])


def _single_batch(observation: dict[str, Any]) -> dict[str, Any]:
    return {"images": {c: torch.as_tensor(np.asarray(img))[None] for c, img in observation["images"].items()}}


def make_policy(env: gym.Env, backbone: str | Path | nn.Module, bank: str | Path | MemoryBank, k: int = 2,
                temperature: float | None = None, execute: int | None = 8, state: str = "visible",
                device: str = "cpu") -> VLAProPolicy:
    """Registered as ``vla_pro`` (by the policies/<name>/ convention).

    ``backbone``: a training run folder or checkpoint (``vlapro-bench train``), or a model.
    ``bank``: a bank folder (``vlapro-bench memory build``), or a loaded bank. The bank is
    verified (hashes) and must have been built for this backbone (fingerprint).
    """
    if not isinstance(backbone, nn.Module):
        from vlapro_bench.policies.tinyvla.policy import load_backbone_checkpoint  # noqa: PLC0415

        backbone = load_backbone_checkpoint(backbone, device)
    if not isinstance(bank, MemoryBank):
        bank = load_bank(bank, backbone)
    return VLAProPolicy(backbone, bank, k=k, temperature=temperature, execute=execute, state=state, env=env)


__all__ = ["VLAProPolicy", "make_policy"]
