"""Each kind of bad input gets one UserError naming the file, line and column; good input is counted right."""
import pytest

from components.core.errors import UserError
from components.text.input_checks import check_csv

GOOD_ROWS = "".join(f"sentence number {i},{'pos' if i % 3 else 'neg'}\n" for i in range(12))  # 8 pos, 4 neg


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return str(path)


def error_of(path, text_column="text", label_column="label"):
    with pytest.raises(UserError) as info:
        check_csv(path, text_column, label_column)
    return str(info.value)


def test_good_csv_is_counted(tmp_path):
    summary = check_csv(write(tmp_path, "good.csv", "text,label\n" + GOOD_ROWS), "text", "label")
    assert summary.rows == 12
    assert summary.label_counts == {"neg": 4, "pos": 8}
    assert summary.describe() == "12 rows in 1 file; 2 labels: pos 8 (67%), neg 4 (33%)"


def test_directory_sums_its_csv_files_and_skips_blank_lines_and_crlf(tmp_path):
    write(tmp_path, "a.csv", "text,label\r\n" + GOOD_ROWS.replace("\n", "\r\n") + "\r\n")
    write(tmp_path, "b.csv", "text,label\nmore,new\n\n")
    write(tmp_path, "notes.txt", "not,csv,at all\n")
    summary = check_csv(str(tmp_path), "text", "label")
    assert summary.files == (str(tmp_path / "a.csv"), str(tmp_path / "b.csv"))
    assert summary.rows == 13 and summary.label_counts == {"neg": 4, "new": 1, "pos": 8}


def test_custom_column_names_and_extra_columns(tmp_path):
    rows = "".join(f"{i},{label},review {i}\n" for i, label in enumerate(["up", "down"] * 5))
    summary = check_csv(write(tmp_path, "r.csv", "id,sentiment,review\n" + rows), "review", "sentiment")
    assert summary.label_counts == {"down": 5, "up": 5}


def test_quoted_fields_may_hold_commas_quotes_and_line_breaks_and_lines_stay_right(tmp_path):
    good = 'text,label\n"a, b ""c""",pos\n"two\nlines",neg\n' + GOOD_ROWS
    assert check_csv(write(tmp_path, "q.csv", good), "text", "label").rows == 14
    path = write(tmp_path, "q.csv", good + ",pos\n")
    assert f"{path}:17" in error_of(path)  # after the header, records on lines 2, 3-4 and 5-16


def test_missing_file(tmp_path):
    message = error_of(str(tmp_path / "nope.csv"))
    assert "nope.csv does not exist" in message and "data.input_path=" in message


def test_directory_without_csv_files(tmp_path):
    write(tmp_path, "data.tsv", "text\tlabel\n")
    message = error_of(str(tmp_path))
    assert str(tmp_path) in message and "no *.csv files" in message


def test_invalid_utf8_names_file_line_and_byte_offset(tmp_path):
    path = write(tmp_path, "latin1.csv", "text,label\nfine,pos\n".encode() + "café,neg\n".encode("latin-1"))
    message = error_of(path)
    assert f"{path}:3" in message and "not valid UTF-8" in message
    assert "byte offset 23" in message  # len("text,label\nfine,pos\ncaf")


def test_empty_file_has_no_header(tmp_path):
    message = error_of(write(tmp_path, "empty.csv", ""))
    assert "empty.csv has no header" in message and "text,label" in message


def test_wrong_column_names_name_found_expected_and_override_keys(tmp_path):
    message = error_of(write(tmp_path, "cols.csv", "review,sentiment\ngreat,pos\n"))
    assert "cols.csv" in message and "['review', 'sentiment']" in message
    assert "'text'" in message and "'label'" in message
    assert "data.text_column=" in message and "data.label_column=" in message


def test_headerless_file_is_reported_as_wrong_columns(tmp_path):
    message = error_of(write(tmp_path, "nohead.csv", "a great film,pos\n" + GOOD_ROWS))
    assert "['a great film', 'pos']" in message and "header" in message


def test_semicolon_file_gets_a_delimiter_hint(tmp_path):
    message = error_of(write(tmp_path, "semi.csv", "text;label\nok;pos\n"))
    assert "['text;label']" in message and "comma-separated" in message


def test_byte_order_mark_is_rejected(tmp_path):
    message = error_of(write(tmp_path, "bom.csv", b"\xef\xbb\xbftext,label\n" + GOOD_ROWS.encode()))
    assert "bom.csv" in message and "byte-order mark" in message


def test_quoted_header_is_rejected_as_tfx_splits_it_on_commas(tmp_path):
    message = error_of(write(tmp_path, "qh.csv", '"text","label"\n' + GOOD_ROWS))
    assert "qh.csv:1" in message and "quotes column names" in message


def test_files_of_a_directory_must_share_the_header(tmp_path):
    write(tmp_path, "a.csv", "text,label\n" + GOOD_ROWS)
    write(tmp_path, "b.csv", "label,text\npos,fine\n")
    message = error_of(str(tmp_path))
    assert "b.csv has columns ['label', 'text']" in message and "a.csv has ['text', 'label']" in message


def test_wrong_number_of_fields_names_file_line_and_count(tmp_path):
    path = write(tmp_path, "fields.csv", "text,label\n" + GOOD_ROWS + "good, but unquoted,pos\nlonely\n")
    message = error_of(path)
    assert "wrong number of fields (the header has 2): 2 rows" in message
    assert f"{path}:14 (got 3), {path}:15 (got 1)" in message


def test_empty_or_whitespace_text_names_file_line(tmp_path):
    path = write(tmp_path, "text.csv", "text,label\n" + GOOD_ROWS + ",pos\n   ,neg\n")
    message = error_of(path)
    assert "empty text in column 'text': 2 rows" in message
    assert f"{path}:14, {path}:15" in message


def test_empty_label_names_file_line_and_column(tmp_path):
    path = write(tmp_path, "label.csv", "words,y\n" + GOOD_ROWS + "no label here, \n")
    with pytest.raises(UserError) as info:
        check_csv(path, "words", "y")
    assert "empty label in column 'y': 1 row" in str(info.value) and f"{path}:14" in str(info.value)


def test_many_bad_rows_show_the_first_five_and_the_count(tmp_path):
    path = write(tmp_path, "many.csv", "text,label\n" + GOOD_ROWS + "x,\n" * 8)
    message = error_of(path)
    assert "empty label in column 'label': 8 rows" in message and "... 3 more" in message
    assert f"{path}:18" in message and f"{path}:19" not in message


def test_unclosed_quote_names_its_line(tmp_path):
    path = write(tmp_path, "quote.csv", 'text,label\nok,pos\na 9" TV,pos\n' + GOOD_ROWS)
    message = error_of(path)
    assert f"{path}:3" in message and "never closed" in message


def test_single_label_is_rejected_with_its_count(tmp_path):
    message = error_of(write(tmp_path, "one.csv", "text,label\n" + "same old,pos\n" * 12))
    assert "single label {'pos': 12}" in message and "'label'" in message


def test_too_few_rows_is_rejected(tmp_path):
    message = error_of(write(tmp_path, "few.csv", "text,label\ngood,pos\nbad,neg\n"))
    assert "few.csv has 2 labelled rows" in message and "at least 10" in message


@pytest.mark.slow
def test_tfx_reads_the_tricky_files_the_same_way(tmp_path):
    """Pins the assumption this module rests on: CsvExampleGen joins quoted line breaks and skips blank lines."""
    pytest.importorskip("tfx")
    from tfx.components.example_gen.csv_example_gen.executor import _ReadCsvRecordsFromTextFile
    from tfx_bsl.coders.csv_decoder import ParseCSVLine

    path = write(tmp_path, "t.csv", 'text,label\r\n"two\nlines, ""quoted""",pos\r\n\r\nplain,neg\n' + GOOD_ROWS)
    parser = ParseCSVLine(",")
    parser.setup()
    records = [next(iter(parser.process(r)))[0] for r in _ReadCsvRecordsFromTextFile().process(path)]
    tfx_rows = [[cell.decode() for cell in cells] for cells in records if cells]
    assert tfx_rows[:2] == [['two\nlines, "quoted"', "pos"], ["plain", "neg"]]
    assert len(tfx_rows) == check_csv(path, "text", "label").rows == 14


PAIR_ROWS = "".join(f"premise {i},hypothesis {i},{'yes' if i % 2 else 'no'}\n" for i in range(12))


def test_sentence_pairs_are_counted_by_label(tmp_path):
    path = write(tmp_path, "pairs.csv", "premise,hypothesis,label\n" + PAIR_ROWS)
    summary = check_csv(path, "premise", "label", pair_column="hypothesis")
    assert summary.rows == 12 and summary.label_counts == {"no": 6, "yes": 6}


def test_a_missing_pair_column_names_it_and_its_key(tmp_path):
    path = write(tmp_path, "pairs.csv", "premise,label\n" + GOOD_ROWS)
    with pytest.raises(UserError) as info:
        check_csv(path, "premise", "label", pair_column="hypothesis")
    message = str(info.value)
    assert "pairs.csv" in message and "'hypothesis' (text pair)" in message and "missing ['hypothesis']" in message
    assert "data.text_pair_column=" in message


def test_an_empty_second_text_names_file_line_and_column(tmp_path):
    path = write(tmp_path, "pairs.csv", "premise,hypothesis,label\n" + PAIR_ROWS + "a premise, ,yes\n,,no\n")
    with pytest.raises(UserError) as info:
        check_csv(path, "premise", "label", pair_column="hypothesis")
    message = str(info.value)
    assert f"empty text pair in column 'hypothesis': 2 rows: {path}:14, {path}:15" in message
    assert f"empty text in column 'premise': 1 row: {path}:15" in message


def test_chinese_text_and_labels_are_counted_and_described_as_written(tmp_path):
    rows = "".join(f"第{i}句话很好看,{'正面' if i % 3 else '负面'}\n" for i in range(12))
    summary = check_csv(write(tmp_path, "中文.csv", "text,label\n" + rows), "text", "label")
    assert summary.describe() == "12 rows in 1 file; 2 labels: 正面 8 (67%), 负面 4 (33%)"
