"""Reads a run report back for the e2e tests: its numbers (each cell's data-* attributes), its inline images, its
text; and checks that every metric TFMA wrote is in it, with the value TFMA wrote."""
import base64
import dataclasses
import html.parser
import io
from typing import Dict, List

import pytest


@dataclasses.dataclass
class Page:
    cells: List[Dict[str, str]]  # the data-* attributes of each numeric cell, "text" included
    images: Dict[str, bytes]  # alt text -> PNG bytes
    text: str


class _Parser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.page, self._cell = Page([], {}, ""), None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "td" and "data-value" in attrs:
            self._cell = {k[len("data-"):]: v for k, v in attrs.items() if k.startswith("data-")}
            self._cell["text"] = ""
        if tag == "img":
            self.page.images[attrs["alt"]] = base64.b64decode(attrs["src"].split(",", 1)[1])

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.page.cells.append(self._cell)
            self._cell = None

    def handle_data(self, data):
        self.page.text += data
        if self._cell is not None:
            self._cell["text"] += data


def read(path: str) -> Page:
    parser = _Parser()
    with open(path, encoding="utf-8") as f:
        parser.feed(f.read())
    return parser.page


def metric_cells(page: Page, model: str = "candidate") -> Dict[tuple, float]:
    """(metric name, class id or "", aggregation) -> the exact value the report shows for `model`."""
    return {(c["metric"], c["class-id"], c["aggregation"]): float(c["value"]) for c in page.cells
            if c.get("model") == model}


def assert_holds_tfma_metrics(page: Page, evaluation_uri: str) -> Dict[tuple, float]:
    """Every overall double metric TFMA wrote for the candidate is in the report with that value; returns them."""
    import tensorflow_model_analysis as tfma

    written = {}
    for metrics in tfma.load_metrics(evaluation_uri):
        for item in metrics.metric_keys_and_values:
            key = item.key
            if key.is_diff or key.model_name == tfma.BASELINE_KEY or item.value.WhichOneof("type") != "double_value":
                continue
            class_id = str(key.sub_key.class_id.value) if key.sub_key.HasField("class_id") else ""
            aggregation = "macro_average" if key.aggregation_type.macro_average else ""
            written[(key.name, class_id, aggregation)] = item.value.double_value.value
    shown = metric_cells(page)
    assert written and set(written) <= set(shown), set(written) - set(shown)
    for key, value in written.items():
        assert shown[key] == pytest.approx(value, rel=1e-9, nan_ok=True), key
    return written


def assert_valid_pngs(page: Page, *required: str) -> None:
    from PIL import Image

    assert set(required) <= set(page.images), sorted(page.images)
    for alt, png in page.images.items():
        image = Image.open(io.BytesIO(png))
        image.verify()  # a complete, uncorrupted PNG
        assert image.format == "PNG" and image.size[0] > 100, alt
