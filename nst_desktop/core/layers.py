"""VGG19 layer names <-> indices into torchvision's ``vgg19().features``.

The table is generated from the block structure so it cannot drift from the architecture:
each block is N (conv, relu) pairs followed by a pool.
"""

from __future__ import annotations

#: Output channels and number of convolutions per block, as in torchvision's VGG19 ("E").
BLOCKS: tuple[tuple[int, int], ...] = ((64, 2), (128, 2), (256, 4), (512, 4), (512, 4))


def _build_table() -> tuple[str, ...]:
    names: list[str] = []
    for block, (_, n_conv) in enumerate(BLOCKS, start=1):
        for i in range(1, n_conv + 1):
            names += [f"conv{block}_{i}", f"relu{block}_{i}"]
        names.append(f"pool{block}")
    return tuple(names)


#: Every layer name in network order; the position is the torchvision ``features`` index.
LAYER_NAMES: tuple[str, ...] = _build_table()
LAYER_INDEX: dict[str, int] = {name: i for i, name in enumerate(LAYER_NAMES)}
RELU_LAYERS: tuple[str, ...] = tuple(n for n in LAYER_NAMES if n.startswith("relu"))
#: The layers of the paper's two studies (content at each, style cumulatively).
STUDY_LAYERS: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


def layer_index(name: str) -> int:
    """Index of a layer name, with a message that lists valid names on a typo."""
    try:
        return LAYER_INDEX[name]
    except KeyError:
        raise ValueError(
            f"Unknown VGG19 layer '{name}'; use names like relu4_2 or conv1_1 "
            f"(blocks 1-5: {', '.join(RELU_LAYERS)})."
        ) from None


def layer_channels(name: str) -> int:
    """Number of channels a layer outputs."""
    layer_index(name)
    return BLOCKS[int(name[4]) - 1][0]


def downsampling(name: str) -> int:
    """Total stride of a layer relative to the input (a pool halves the size)."""
    idx = layer_index(name)
    pools = sum(1 for n in LAYER_NAMES[: idx + 1] if n.startswith("pool"))
    return 2**pools


def min_input_side(name: str) -> int:
    """Smallest input side for which the layer still has at least one pixel."""
    return downsampling(name)
