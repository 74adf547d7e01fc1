"""HTML building blocks for a self-contained report: inline CSS and inline PNG images, no scripts, nothing fetched,
so the file opens offline and can be mailed or archived as is. Every text is escaped here."""
import base64
import html
from typing import Iterable, Optional, Sequence

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1100px;
       color: #222; line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; margin-top: 1.6em; }
h3 { margin-bottom: 0.3em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; display: block; overflow-x: auto;
        max-width: 100%; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f4f6f8; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { font-weight: bold; padding: 0.1em 0.5em; border-radius: 4px; }
.ok { background: #d8f3dc; color: #1b4332; } .bad { background: #ffd6d6; color: #7a1010; }
.muted { color: #666; } pre { background: #f6f8fa; padding: 0.6em; overflow-x: auto; font-size: 0.9em; }
.plots { display: flex; flex-wrap: wrap; gap: 1em; } .plots img { border: 1px solid #eee; max-width: 100%; }
code { background: #f6f8fa; padding: 0 0.3em; }
"""


def escape(text) -> str:
    return html.escape(str(text), quote=True)


def document(title: str, body: Iterable[str]) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{escape(title)}</title>\n'
            f"<style>{_CSS}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n")


def section(title: str, blocks: Iterable[str], anchor: str = "") -> str:
    ident = f' id="{escape(anchor)}"' if anchor else ""
    return f"<section{ident}>\n<h2>{escape(title)}</h2>\n" + "\n".join(blocks) + "\n</section>"


def heading(text: str) -> str:
    return f"<h3>{escape(text)}</h3>"


def paragraph(text: str, css: str = "") -> str:
    return f'<p class="{css}">{escape(text)}</p>' if css else f"<p>{escape(text)}</p>"


def verdict(text: str, good: bool) -> str:
    return f'<span class="verdict {"ok" if good else "bad"}">{escape(text)}</span>'


def raw_paragraph(*parts: str) -> str:
    """A paragraph of blocks already built here (e.g. a verdict beside escaped text)."""
    return "<p>" + " ".join(parts) + "</p>"


def code(text: str) -> str:
    return f"<pre>{escape(text)}</pre>"


def cell(text, value: Optional[float] = None, **data: str) -> str:
    """A table cell; a number also carries its exact value (data-value) and what it is (data-*), for tests and
    anyone who copies it."""
    attributes = "".join(f' data-{escape(k.replace("_", "-"))}="{escape(v)}"' for k, v in data.items())
    if value is not None:
        return f'<td class="num" data-value="{value!r}"{attributes}>{escape(text)}</td>'
    return f"<td{attributes}>{escape(text)}</td>"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], css: str = "") -> str:
    """`rows` hold cells built with `cell`."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "\n".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    attribute = f' class="{escape(css)}"' if css else ""
    return f"<table{attribute}>\n<tr>{head}</tr>\n{body}\n</table>"


def images(pngs: Iterable[tuple]) -> str:
    """(alt text, PNG bytes) pairs side by side."""
    tags = [f'<img alt="{escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'
            for alt, png in pngs]
    return '<div class="plots">' + "".join(tags) + "</div>" if tags else ""
