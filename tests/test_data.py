"""Tests for recasketch.data: the psv readers and the named datasets."""

import csv
import io
import logging
import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recasketch import config
from recasketch.data import (
    MID_PATTERN,
    UID_PATTERN,
    DataError,
    _match_ids,
    read_features,
    read_likes,
)

LIKES = config.LIKES_FILE
FEATURES = config.FEATURES_FILE


def hex_id(i: int) -> str:
    return f"{i:032x}"


def psv(rows, header=("modelname", "mid", "uid")) -> str:
    """Rows written as the crawl writes them: '|' between fields, backslash as quote."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="|", quotechar="\\", lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def likes_text(n=4) -> str:
    return psv([(f"Model {i}", hex_id(i), hex_id(1000 + i)) for i in range(n)])


def features_text() -> str:
    return psv(
        [(hex_id(0), "category", "Characters"), (hex_id(0), "tag", "tiltbrush"),
         (hex_id(1), "tag", "Low Poly")],
        header=("mid", "type", "value"),
    )


@pytest.fixture
def write(tmp_path):
    def write(text, name=LIKES):
        path = tmp_path / name
        if isinstance(text, str):
            path.write_bytes(text.encode("utf-8"))
        else:
            path.write_bytes(text)
        return path

    return write


def where(path, line):
    """A regex for the start of a message about ``line`` of ``path``."""
    return re.escape(f"{path}, line {line}:")


# ------------------------------------------------------------------ valid files


def test_round_trip_of_quoted_names(write):
    names = ["Freedom | Limited Edition", "back\\slash", 'Medusa: "i-Dusa"', "a|b\\c|",
             " Daggett", "兵马俑 Tiltbrush ✓", "plain"]
    rows = [(name, hex_id(i), hex_id(100 + i)) for i, name in enumerate(names)]
    path = write(psv(rows))
    assert "\\Freedom | Limited Edition\\" in path.read_text()
    likes = read_likes(path)
    assert list(likes.columns) == ["modelname", "mid", "uid"]
    assert likes["modelname"].tolist() == names
    assert likes["mid"].tolist() == [r[1] for r in rows]
    assert likes.attrs["n_duplicates"] == 0


def test_pandas_writer_of_the_synthetic_module_reads_back(write, tmp_path):
    frame = pd.DataFrame({"modelname": ["a|b", "c\\d", "e"], "mid": [hex_id(1)] * 3,
                          "uid": [hex_id(2), hex_id(3), hex_id(4)]})
    path = tmp_path / LIKES
    frame.to_csv(path, sep="|", index=False, quoting=csv.QUOTE_MINIMAL, escapechar="\\",
                 quotechar="\\", lineterminator="\n")
    likes = read_likes(path)
    assert isinstance(likes["mid"].dtype, pd.CategoricalDtype) and isinstance(likes["uid"].dtype, pd.CategoricalDtype)
    pd.testing.assert_frame_equal(likes.astype(str), frame.astype("str"), check_dtype=False)


@pytest.mark.parametrize("name", ["NA", "null", "NaN", "None", "n/a", "#N/A", ""])
def test_na_like_names_stay_strings(write, name):
    likes = read_likes(write(psv([(name, hex_id(1), hex_id(2))])))
    assert likes["modelname"].tolist() == [name]
    assert not likes.isna().any().any()


def test_older_model_ids_are_valid(write):
    mids = ["b7LzIm8JrnPw4GBDOMBNGYc39qM", "dGUrytaktlDeNudCEGKk31oTJY", hex_id(5)]
    likes = read_likes(write(psv([("m", mid, hex_id(9)) for mid in mids])))
    assert likes["mid"].tolist() == mids


def test_duplicates_counted_and_dropped_on_request(write, caplog):
    a, b, c = (hex_id(1), hex_id(2)), (hex_id(3), hex_id(4)), (hex_id(5), hex_id(6))
    rows = [("a", *a), ("b", *b), ("a", *a), ("a|x", *a), ("a|x", *a), ("c", *c)]
    path = write(psv(rows))
    with caplog.at_level(logging.INFO, logger="recasketch.data"):
        kept = read_likes(path)
    assert len(kept) == 6 and kept.attrs["n_duplicates"] == 2
    assert "2 exact duplicate row(s)" in caplog.text
    dropped = read_likes(path, drop_duplicates=True)
    assert dropped.attrs["n_duplicates"] == 2
    assert dropped["modelname"].tolist() == ["a", "b", "a|x", "c"]
    assert dropped.index.tolist() == [0, 1, 2, 3]
    pd.testing.assert_frame_equal(dropped, kept.drop_duplicates().reset_index(drop=True))


def test_same_row_quoted_two_ways_is_a_duplicate(write):
    text = likes_text(1) + f"\\Model 0\\|{hex_id(0)}|{hex_id(1000)}\n"
    assert read_likes(write(text)).attrs["n_duplicates"] == 1


def test_no_duplicates_logs_nothing(write, caplog):
    with caplog.at_level(logging.INFO, logger="recasketch.data"):
        assert read_likes(write(likes_text())).attrs["n_duplicates"] == 0
    assert caplog.text == ""


def test_blank_lines_crlf_and_bom_are_accepted(write):
    text = "\ufeff" + likes_text(3).replace("\n", "\r\n") + "\r\n   \r\n"
    lines = text.split("\r\n")
    text = "\r\n".join(lines[:2] + [""] + lines[2:])
    likes = read_likes(write(text))
    assert likes["mid"].tolist() == [hex_id(0), hex_id(1), hex_id(2)]
    assert likes["uid"].str.len().eq(32).all()


def test_features_round_trip(write):
    features = read_features(write(features_text(), FEATURES))
    assert list(features.columns) == ["mid", "type", "value"]
    assert features["type"].tolist() == ["category", "tag", "tag"]
    assert features["value"].tolist() == ["Characters", "tiltbrush", "Low Poly"]


def test_multi_line_names_read_and_keep_line_numbers(write):
    rows = [("two\nlines", hex_id(1), hex_id(2)), ("b", hex_id(3), hex_id(4)),
            ("b", hex_id(3), hex_id(4))]
    path = write(psv(rows))
    likes = read_likes(path)
    assert likes["modelname"].tolist() == ["two\nlines", "b", "b"]
    assert likes.attrs["n_duplicates"] == 1
    # The bad uid is on line 6: the header, two lines for the first record, then three more.
    path = write(psv(rows + [("c", hex_id(5), "XYZ")]))
    with pytest.raises(DataError, match=where(path, 6) + " column 'uid' holds 'XYZ'"):
        read_likes(path)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(
    st.text(alphabet="0123456789abcdef", min_size=30, max_size=34),
    st.text(alphabet="0123456789abcdefABCDEFxyzXYZ", min_size=18, max_size=34),
    st.text(min_size=0, max_size=40),
), min_size=1, max_size=20))
def test_id_check_equals_the_regex(values):
    import numpy as np

    array = np.array(values, dtype=object)
    for pattern in (UID_PATTERN, MID_PATTERN):
        expected = [re.fullmatch(pattern, v) is not None for v in values]
        assert _match_ids(array, pattern).tolist() == expected


# ------------------------------------------------------------------ invalid files


def test_missing_file(tmp_path):
    path = tmp_path / "nope.psv"
    how = "Run `make data` (or `python -m recasketch.download`) to download"
    with pytest.raises(DataError, match=re.escape(f"{path}: no such file. Check the path. {how}")):
        read_likes(path)


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(DataError, match="is a folder, not a file"):
        read_features(tmp_path)


def test_empty_file(write):
    path = write(b"")
    with pytest.raises(DataError, match=re.escape(f"{path}: the file is empty (0 bytes)")):
        read_likes(path)


@pytest.mark.parametrize("text", ["modelname|mid|uid\n", "modelname|mid|uid",
                                  "modelname|mid|uid\n\n \n"])
def test_header_only(write, text):
    path = write(text)
    with pytest.raises(DataError, match=re.escape(f"{path}: has no rows, only the header")):
        read_likes(path)


def test_wrong_header_names_expected_and_found(write):
    path = write(likes_text().replace("modelname|mid|uid", "name|mid|user_id", 1))
    message = (where(path, 1) + r" expected the header 'modelname\|mid\|uid', found "
               r"'name\|mid\|user_id' \(missing \['modelname', 'uid'\]; "
               r"unexpected \['name', 'user_id'\]\)")
    with pytest.raises(DataError, match=message):
        read_likes(path)


def test_missing_column(write):
    path = write(f"modelname|mid\nm|{hex_id(1)}\n")
    with pytest.raises(DataError, match=where(path, 1) + r".*missing \['uid'\]"):
        read_likes(path)


def test_features_file_given_to_read_likes(write):
    path = write(features_text())
    with pytest.raises(DataError, match="looks like the features file; read it with read_features"):
        read_likes(path)


@pytest.mark.parametrize("sep, name", [(",", "comma"), ("\t", "tab")])
def test_wrong_separator(write, sep, name):
    path = write(likes_text().replace("|", sep))
    message = f".*has no '\\|' but has {name}s; the file looks {name}-separated.*sep='\\|'"
    with pytest.raises(DataError, match=where(path, 1) + message):
        read_likes(path)


@pytest.mark.parametrize("column, lines", [("mid", [3]), ("uid", [3, 5])])
def test_empty_ids_name_the_lines(write, column, lines):
    rows = [[f"Model {i}", hex_id(i), hex_id(100 + i)] for i in range(5)]
    for line in lines:
        rows[line - 2][1 if column == "mid" else 2] = ""
    path = write(psv(rows))
    shown = ", ".join(map(str, lines))
    with pytest.raises(DataError, match=where(path, lines[0]) + f" column '{column}' is empty; "
                       f"{len(lines)} row\\(s\\) in all, on line\\(s\\) {shown}\\. .*fill it in"):
        read_likes(path)


def test_row_of_empty_fields_is_not_a_blank_line(write):
    path = write(likes_text(2) + "||\n")
    with pytest.raises(DataError, match=where(path, 4) + " column 'mid' is empty"):
        read_likes(path)


@pytest.mark.parametrize("column, value", [
    ("uid", hex_id(0xABCDEF).upper()),  # uppercase
    ("uid", hex_id(7)[:31]),         # too short
    ("uid", hex_id(7) + "0"),        # too long
    ("uid", " " + hex_id(7)[1:]),    # white space
    ("uid", "b7LzIm8JrnPw4GBDOMBNGYc39qM"),  # a model id where a user id belongs
    ("mid", "Model 3"),              # the name in the id column
    ("mid", "short1"),
    ("mid", "é" * 32),
])
def test_invalid_ids_name_the_line(write, column, value):
    rows = [[f"Model {i}", hex_id(i), hex_id(100 + i)] for i in range(5)]
    rows[2][1 if column == "mid" else 2] = value
    path = write(psv(rows))
    kind = "user" if column == "uid" else "model"
    with pytest.raises(DataError, match=where(path, 4) + f" column '{column}' holds "
                       f"{re.escape(repr(value))}, which is not a valid {kind} id"):
        read_likes(path)


def test_non_utf8_byte_names_the_line(write):
    text = likes_text(5).encode("utf-8")
    lines = text.split(b"\n")
    lines[4] = b"Caf\xe9 " + lines[4]  # Latin-1 e-acute on line 5
    path = write(b"\n".join(lines))
    message = r" byte 4 of the line \(0xe9\) is not valid UTF-8"
    with pytest.raises(DataError, match=where(path, 5) + message):
        read_likes(path)


def test_non_utf8_byte_in_the_header(write):
    path = write(b"model\xffname|mid|uid\n" + likes_text(2).encode().split(b"\n", 1)[1])
    with pytest.raises(DataError, match=where(path, 1) + r" byte 6 of the line \(0xff\)"):
        read_likes(path)


def test_non_utf8_byte_after_a_malformed_line(write):
    lines = likes_text(4).encode().split(b"\n")
    lines[2] += b"|extra"
    lines[4] = b"\xff" + lines[4]
    path = write(b"\n".join(lines))
    with pytest.raises(DataError, match=where(path, 5) + " byte 1 of the line"):
        read_likes(path)


def test_too_many_fields_names_the_line(write):
    lines = likes_text(5).split("\n")
    lines[3] = lines[3] + "|extra"
    path = write("\n".join(lines))
    message = " expected 3 fields .* found 4\\. If a field contains '\\|', wrap it in backslashes"
    with pytest.raises(DataError, match=where(path, 4) + message):
        read_likes(path)


def test_too_many_fields_on_the_first_row(write):
    # pandas would only warn here (and drop the field); the reader refuses the file.
    lines = likes_text(3).split("\n")
    lines[1] = "Cool | Model|" + lines[1].split("|", 1)[1]
    path = write("\n".join(lines))
    with pytest.raises(DataError, match=where(path, 2) + " expected 3 fields .* found 4"):
        read_likes(path)


def test_too_few_fields_names_the_line(write):
    text = features_text() + f"{hex_id(2)}|tag\n" + f"{hex_id(3)}|tag|ok\n"
    path = write(text, FEATURES)
    message = " expected 3 fields \\(mid\\|type\\|value\\), found 2"
    with pytest.raises(DataError, match=where(path, 5) + message):
        read_features(path)


def test_wrong_field_count_after_a_multi_line_record(write):
    text = psv([("two\nlines", hex_id(1), hex_id(2)), ("b", hex_id(3), hex_id(4))])
    path = write(text + f"c|{hex_id(5)}|{hex_id(6)}|x\n")
    with pytest.raises(DataError, match=where(path, 5) + " expected 3 fields"):
        read_likes(path)


def test_unclosed_quote_names_the_line(write):
    broken = f"\\Broken|{hex_id(7)}|{hex_id(8)}\n"
    path = write(likes_text(3) + broken + likes_text(2).split("\n", 1)[1])
    message = " a field opened with a backslash .* never closed"
    with pytest.raises(DataError, match=where(path, 5) + message):
        read_likes(path)


def test_unknown_feature_type_names_the_line(write):
    path = write(features_text() + f"{hex_id(4)}|tags|x\n{hex_id(4)}|Category|y\n", FEATURES)
    message = (" column 'type' holds 'tags', which is not one of 'category', 'tag'; "
               "2 row\\(s\\) in all, on line\\(s\\) 5, 6\\.")
    with pytest.raises(DataError, match=where(path, 5) + message):
        read_features(path)


def test_invalid_feature_mid(write):
    path = write(features_text() + "not an id|tag|x\n", FEATURES)
    with pytest.raises(DataError, match=where(path, 5) + " column 'mid' holds 'not an id'"):
        read_features(path)


# ------------------------------------------------------------------ datasets


def test_load_dataset_sample_is_synthetic_with_truth():
    from recasketch.data import load_dataset

    ds = load_dataset("sample")
    assert ds.synthetic and "SYNTHETIC" in ds.description
    assert list(ds.likes.columns) == ["modelname", "mid", "uid"]
    assert list(ds.features.columns) == ["mid", "type", "value"]
    assert set(ds.model_topics["mid"]) >= set(ds.likes["mid"])
    assert "tiltbrush" in set(ds.model_topics["topic"])


def test_load_dataset_missing_files_say_which_make_target(tmp_path):
    from recasketch.data import load_dataset

    with pytest.raises(DataError, match=r"run `make data` \(needs internet\)"):
        load_dataset("sketchfab", data_dir=tmp_path)
    with pytest.raises(DataError, match="make synthetic-full"):
        load_dataset("synthetic-full", data_dir=tmp_path)
    with pytest.raises(ValueError, match="Unknown dataset"):
        load_dataset("nope")
