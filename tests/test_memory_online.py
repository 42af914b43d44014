"""The per-chunk visible query equals the offline encoding of the same demonstration frames."""

import numpy as np
import pytest
import torch

from vlapro_bench.memory.online import VisibleQuery
from vlapro_bench.memory.state import StateProjection, history_window, visible_fields

WINDOW = 8


def fitted_projection(visual_dim: int, max_dim: int, gen: torch.Generator) -> StateProjection:
    raw = {"action_type": torch.randn(60, 384, generator=gen),
           "object_geometry": torch.randn(60, visual_dim, generator=gen),
           "ee_orientation": torch.randn(60, 10, generator=gen), "target_point": torch.randn(60, 14, generator=gen)}
    return StateProjection.fit(raw, max_dim, (0.4, 0.3, 0.2, 0.1))


def offline_queries(projection, instruction, visual, ee, actions, starts):
    """What `memory build` stores for these frames: history_window -> visible_fields -> encode."""
    window = history_window(ee, actions, np.array(starts), WINDOW)
    fields = visible_fields(instruction.expand(len(starts), -1), visual, ee[starts], *window)
    return projection.encode(fields)


@pytest.mark.parametrize(("arms", "visual_dim", "max_dim"), [(2, 32, 8), (1, 32, 8), (2, 6, 8)])
def test_online_query_equals_the_offline_encoding_chunk_by_chunk(arms, visual_dim, max_dim):
    """Two arms (14-d actions), one arm (RLBench, 8-d), and unequal field widths (the per-field path)."""
    gen = torch.Generator().manual_seed(arms + visual_dim)
    rng = np.random.default_rng(visual_dim)
    projection = fitted_projection(visual_dim, max_dim, gen)
    width, action_dim = (16, 14) if arms == 2 else (8, 8)
    ee = rng.normal(size=(40, width)).astype(np.float32)  # about half the quaternions have w < 0
    actions = rng.normal(size=(40, action_dim)).astype(np.float32)
    starts = [0, 8, 16, 24, 32]
    instruction = torch.randn(1, 384, generator=gen)
    visual = torch.randn(len(starts), visual_dim, generator=gen)
    expected = offline_queries(projection, instruction, visual, ee, actions, starts)

    online = VisibleQuery(projection, action_dim)
    pointer = online.query.data_ptr()
    for episode in range(2):  # reset() clears the history: the second episode repeats the first
        online.reset()
        online.set_instruction(instruction)
        for i, t in enumerate(starts):
            online.set_pose(ee[t])
            query = online.set_visual(visual[i : i + 1])
            torch.testing.assert_close(query, expected[i], atol=2e-6, rtol=0, msg=f"episode {episode}, frame {t}")
            assert query.data_ptr() == pointer
            online.record(actions[t : t + WINDOW])


def test_a_new_instruction_is_projected_and_the_rest_kept():
    gen = torch.Generator().manual_seed(5)
    projection = fitted_projection(12, 8, gen)
    online = VisibleQuery(projection, 14)
    ee = np.random.default_rng(0).normal(size=16).astype(np.float32)
    visual = torch.randn(12, generator=gen)
    for text_embedding in (torch.randn(384, generator=gen), torch.randn(384, generator=gen)):
        online.reset()
        online.set_instruction(text_embedding)
        online.set_pose(ee)
        query = online.set_visual(visual).clone()
        fields = visible_fields(text_embedding[None], visual[None], ee[None], ee[None], np.zeros(1, dtype=np.int64),
                                ee[None, [7, 15]])
        torch.testing.assert_close(query, projection.encode(fields)[0], atol=2e-6, rtol=0)


def test_bad_poses_and_order_are_refused():
    projection = fitted_projection(12, 8, torch.Generator().manual_seed(6))
    online = VisibleQuery(projection, 14)
    with pytest.raises(ValueError, match="8 .one arm. or 16"):
        online.set_pose(np.zeros(7, dtype=np.float32))
    with pytest.raises(RuntimeError, match="follows set_pose"):
        online.record(np.zeros((4, 14), dtype=np.float32))
