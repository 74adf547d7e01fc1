"""Entity tags as users bring them (BIO/IOB2, IOB1, BIOES), normalized on input so that every sentence is a valid
sequence of its scheme: what a CRF with bio_constraints and entity scoring (seqeval) both expect.

The repair is seqeval's IOB1 -> IOB2 conversion, extended to BIOES: a tag that opens an entity without the scheme's
opening marker becomes one (I-X after O, after another type, or first -> B-X; in BIOES, E-X -> S-X), and in BIOES an
entity left open is closed (B-X not followed by I-X/E-X -> S-X; I-X likewise -> E-X). CoNLL-2003's original
release is IOB1 throughout; real BIO files carry such leftovers too.

The scheme is data.tag_scheme (components/core/config.py TAG_SCHEMES): "bio" or "bioes", or "auto", which reads a sentence holding any E-/S- tag as BIOES
and any other as BIO (a valid BIOES entity always has an E- or S- tag).
"""
from typing import Sequence, Tuple

def normalize(tags: Sequence[str], scheme: str = "auto") -> Tuple[Tuple[str, ...], int]:
    """(the repaired tags, how many were changed)."""
    parts = [_split(tag) for tag in tags]
    if scheme == "auto":
        scheme = "bioes" if any(prefix in ("E", "S") for prefix, _ in parts) else "bio"
    out = []
    for i, (prefix, kind) in enumerate(parts):
        if prefix != "O":
            continues = i > 0 and out[i - 1][0] in ("B", "I") and out[i - 1][1] == kind
            if not continues and prefix in ("I", "E"):
                prefix = "B" if prefix == "I" or scheme == "bio" else "S"
            if scheme == "bioes" and prefix in ("B", "I"):
                closes = i + 1 == len(parts) or not (parts[i + 1][0] in ("I", "E") and parts[i + 1][1] == kind)
                if closes:
                    prefix = "S" if prefix == "B" else "E"
        out.append((prefix, kind))
    repaired = tuple(prefix if prefix == "O" else f"{prefix}-{kind}" for prefix, kind in out)
    return repaired, sum(a != b for a, b in zip(repaired, tags))


def _split(tag: str) -> Tuple[str, str]:
    prefix, _, kind = tag.partition("-")
    return (prefix, kind) if tag != "O" else ("O", "")
