"""Every picture the report draws is a valid, non-blank PNG (matplotlib's Agg backend, no display)."""
import io

import numpy as np
import pytest
from PIL import Image

from pipeline.report import plots

PICTURES = {
    "curves": lambda: plots.curves("loss", [0.9, 0.5, float("nan")], [0.8, 0.6, 0.55]),
    "value counts": lambda: plots.value_counts("label", {"train": [("a", 30.0), ("b", 10.0)], "eval": [("a", 3.0)]}),
    "histogram": lambda: plots.histogram("pieces", [(1.0, 2.0, 5.0), (2.0, 3.0, 9.0)], "pieces"),
    "confusion": lambda: plots.confusion(np.array([[5.0, 1.0], [2.0, 7.0]]), ["neg", "pos"]),
    "bars": lambda: plots.bars("per type", {"PER": {"f1": 0.9, "precision": 0.8}, "LOC": {"f1": None}}),
}


@pytest.mark.parametrize("name", PICTURES)
def test_each_picture_is_a_non_blank_png(name):
    png = PICTURES[name]()
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size[0] > 200 and image.size[1] > 150
    low, high = image.convert("L").getextrema()
    assert high - low > 100  # drawn on, not a blank canvas
