"""The report's HTML blocks: everything escaped, numbers carry their exact value, images inline."""
import base64

from pipeline.report import html


def test_text_is_escaped_and_numbers_keep_their_exact_value():
    row = [html.cell("<b>O'Neil</b>"), html.cell("0.795", 0.79531, metric="accuracy", model="candidate")]
    table = html.table(["who & what", "value"], [row])
    assert "&lt;b&gt;O&#x27;Neil&lt;/b&gt;" in table and "who &amp; what" in table
    assert 'data-value="0.79531" data-metric="accuracy" data-model="candidate">0.795</td>' in table


def test_a_document_is_self_contained():
    png = b"\x89PNG\r\n\x1a\n fake"
    page = html.document("t", [html.section("S", [html.images([("a picture", png)])])])
    assert "<style>" in page and "<script" not in page and "http" not in page.replace("http-equiv", "")
    assert f'src="data:image/png;base64,{base64.b64encode(png).decode()}"' in page
