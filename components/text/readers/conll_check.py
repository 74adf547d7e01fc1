"""Checks CoNLL input before the pipeline runs: one clear UserError naming file:line instead of a Beam stack trace.

Runs the reader's own parser (`conll_format`) over every file, streaming, so what passes here reads the same in
ExampleGen; it also refuses files without a sentence, inputs too small to split, and tags without any entity.
"""
import collections
import dataclasses
from typing import Dict, Tuple

from components.core.errors import UserError
from components.text import readers
from components.text.input_checks import MIN_ROWS, input_files
from components.text.readers import conll_format, text_documents

_INPUT_HINT = "pass --set data.input_path=<a CoNLL file, or a directory of *.conll files>"


@dataclasses.dataclass(frozen=True)
class ConllSummary:
    files: Tuple[str, ...]
    rows: int  # sentences
    words: int
    longest: int  # words in the longest sentence
    label_counts: Dict[str, int]  # tag -> words, after normalizing
    repaired: int = 0  # tags that normalizing changed (tag_schemes: IOB1 leftovers, unclosed BIOES entities)

    def describe(self, max_tags: int = 8) -> str:
        """One line for the console before the run."""
        top = sorted(self.label_counts.items(), key=lambda kv: (-kv[1], kv[0]))
        tags = ", ".join(f"{tag} {n:,}" for tag, n in top[:max_tags])
        more = f", ... {len(top) - max_tags} more" if len(top) > max_tags else ""
        files = "1 file" if len(self.files) == 1 else f"{len(self.files)} files"
        repaired = (f"; {self.repaired:,} tags repaired to a valid scheme (e.g. an I-X that opens an entity became "
                    f"B-X)" if self.repaired else "")
        return (f"{self.rows:,} sentences ({self.words:,} words, the longest {self.longest}) in {files}; "
                f"{len(top)} tags: {tags}{more}{repaired}")


def check_conll(path: str, token_index: int, tag_index: int, min_rows: int = MIN_ROWS, scheme: str = "auto"
                ) -> ConllSummary:
    files = input_files(path, readers.FORMATS[readers.CONLL].directory_pattern, _INPUT_HINT)
    tags: collections.Counter = collections.Counter()
    rows = longest = repaired = 0
    for name in files:
        with text_documents.open_binary(name) as f:
            sentences = 0
            for sentence in conll_format.read_sentences(f, name, token_index, tag_index, scheme):
                sentences += 1
                repaired += sentence.repaired
                longest = max(longest, len(sentence.tags))
                tags.update(sentence.tags)
        if not sentences:
            raise UserError(f"{name} holds no sentence (it is empty, or only blank and -DOCSTART- lines)",
                            hint="remove the file from the input, or fill it")
        rows += sentences
    if rows < min_rows:
        raise UserError(f"{path} has {rows} sentences; at least {min_rows} are needed to split into train and eval",
                        hint="add more sentences")
    if set(tags) == {"O"}:
        raise UserError(f"every tag in {path} is 'O': there is no entity to learn",
                        hint="check data.tag_column_index")
    return ConllSummary(tuple(files), rows, sum(tags.values()), longest, dict(sorted(tags.items())), repaired)


def check_data_conll(path: str, data) -> ConllSummary:
    """The check with the columns a DataConfig names (the signature every input format's check shares)."""
    return check_conll(path, data.token_column_index, data.tag_column_index, scheme=data.tag_scheme)
