"""Tests for recasketch.data: the table readers, the crawl's id check and the datasets."""

import csv
import io
import logging
import re
import shutil
import warnings

import pandas as pd
import pytest
from implicit.cpu.als import AlternatingLeastSquares

from recasketch import config, metrics
from recasketch.data import DataError, load_dataset, read_features, read_ground_truth, read_likes
from recasketch.preprocess import build_interactions, build_item_features, threshold_interactions
from recasketch.split import train_test_split

LIKES = config.LIKES_FILE
FEATURES = config.FEATURES_FILE
OWN = config.PROJ_ROOT / "tests" / "data" / "own_likes"  # likes.csv + features.csv
OWN_PSV = config.PROJ_ROOT / "tests" / "data" / "own_likes_psv"  # likes.psv, integer user ids


def hex_id(i: int) -> str:
    return f"{i:032x}"


def psv(rows, header=("modelname", "mid", "uid")) -> str:
    """Rows written as the crawl writes them: '|' between fields, backslash as quote."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="|", quotechar="\\", lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def plain_csv(rows, header=("user", "item"), sep=",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\n")
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
    assert isinstance(likes["mid"].dtype, pd.CategoricalDtype)
    assert isinstance(likes["uid"].dtype, pd.CategoricalDtype)
    pd.testing.assert_frame_equal(likes.astype(str), frame.astype("str"), check_dtype=False)


@pytest.mark.parametrize("name", ["NA", "null", "NaN", "None", "n/a", "#N/A", ""])
def test_na_like_names_stay_strings(write, name):
    likes = read_likes(write(psv([(name, hex_id(1), hex_id(2))])))
    assert likes["modelname"].tolist() == [name]
    assert not likes.isna().any().any()


def test_any_ids_are_read_as_text(write):
    users = ["user_17", "17", "007", "NA", "b7LzIm8JrnPw4GBDOMBNGYc39qM", "User 3", "é"]
    items = ["item_42", "42", "0042", "null", hex_id(5), "Model 3", "兵马俑"]
    likes = read_likes(write(psv([("m", i, u) for u, i in zip(users, items)])))
    assert likes["uid"].tolist() == users and likes["mid"].tolist() == items
    assert likes["uid"].cat.categories.tolist() == users  # in order of first appearance


def test_columns_are_found_by_name_in_any_order(write):
    path = write(psv([("1", "item_42", "Chair")], header=("uid", "mid", "modelname")))
    likes = read_likes(path)
    assert likes.columns.tolist() == ["modelname", "mid", "uid"]
    assert likes.iloc[0].tolist() == ["Chair", "item_42", "1"]


def test_plain_csv_with_the_header_convention(write):
    rows = [("2016-10-01", "Sword, Low Poly", "user_1", "item_42"),
            ("1476000000", 'The "Old" Tower', "user_2", "item_42"),
            ("", "", "user_2", "item_7")]
    path = write(plain_csv(rows, header=("timestamp", "name", "user", "item")), "likes.csv")
    likes = read_likes(path)
    assert likes.columns.tolist() == ["modelname", "mid", "uid", "timestamp"]
    assert likes["modelname"].tolist() == ["Sword, Low Poly", 'The "Old" Tower', ""]
    assert likes["timestamp"].tolist() == ["2016-10-01", "1476000000", ""]


def test_without_a_name_column_the_item_id_is_the_name(write):
    path = write(plain_csv([("1", "31"), ("1", "1029"), ("2", "31")]), "likes.csv")
    likes = read_likes(path)
    assert likes.columns.tolist() == ["modelname", "mid", "uid"]
    assert likes["modelname"].tolist() == ["31", "1029", "31"]
    assert likes["uid"].tolist() == ["1", "1", "2"]


def test_tab_separated(write):
    path = write(plain_csv([("u1", "i1", "a, b"), ("u2", "i1", "c")],
                           header=("user", "item", "name"), sep="\t"), "likes.tsv")
    assert read_likes(path)["modelname"].tolist() == ["a, b", "c"]


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
    for column in ("mid", "uid"):  # dropping duplicates leaves no unused category
        assert sorted(dropped[column].cat.categories) == sorted(set(dropped[column]))


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


def test_feature_types_are_free_text(write):
    rows = [("item_1", "genre", "Fantasy"), ("item_1", "decade", "1980s"), ("item_2", "tag", "")]
    features = read_features(write(plain_csv(rows, header=("item", "type", "value")),
                                   "features.csv"))
    assert features["type"].tolist() == ["genre", "decade", "tag"]
    assert features["value"].tolist() == ["Fantasy", "1980s", ""]
    keys = build_item_features(features, ["item_1", "item_2"]).feature_names
    assert set(keys) == {"genre_fantasy", "decade_1980s", "tag_"}


def test_multi_line_names_read_and_keep_line_numbers(write):
    rows = [("two\nlines", hex_id(1), hex_id(2)), ("b", hex_id(3), hex_id(4)),
            ("b", hex_id(3), hex_id(4))]
    path = write(psv(rows))
    likes = read_likes(path)
    assert likes["modelname"].tolist() == ["two\nlines", "b", "b"]
    assert likes.attrs["n_duplicates"] == 1
    # The empty uid is on line 6: the header, two lines for the first record, then three more.
    path = write(psv(rows + [("c", hex_id(5), "")]))
    with pytest.raises(DataError, match=where(path, 6) + " column 'uid' is empty"):
        read_likes(path)


# ------------------------------------------------------------------ invalid files


def test_missing_file(tmp_path):
    path = tmp_path / LIKES
    how = "Run `make data` (or `python -m recasketch.datasets.download`) to download"
    with pytest.raises(DataError, match=re.escape(f"{path}: no such file. Check the path. {how}")):
        read_likes(path)
    path = tmp_path / "likes.csv"  # not the crawl: no advice about downloading it
    with pytest.raises(DataError, match=re.escape(f"{path}: no such file. Check the path.") + "$"):
        read_likes(path)


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(DataError, match="is a folder, not a file.*or the folder to load_dataset"):
        read_features(tmp_path)


@pytest.mark.parametrize("content, size", [(b"", "0 bytes"), (b" \n\n", "only white space")])
def test_empty_file(write, content, size):
    path = write(content)
    with pytest.raises(DataError, match=re.escape(f"{path}: the file is empty ({size})")):
        read_likes(path)


@pytest.mark.parametrize("text", ["modelname|mid|uid\n", "modelname|mid|uid",
                                  "modelname|mid|uid\n\n \n"])
def test_header_only(write, text):
    path = write(text)
    with pytest.raises(DataError, match=re.escape(f"{path}: has no rows, only the header")):
        read_likes(path)


def test_wrong_header_names_what_is_missing_and_unknown(write):
    path = write(likes_text().replace("modelname|mid|uid", "name|mid|user_id", 1))
    message = (where(path, 1) + r" the header 'name\|mid\|user_id' does not name the columns "
               r"of a likes table \(missing 'user' or 'uid'; unknown 'user_id'\)\. Name them in "
               r"the first line, in any order: user, item and optionally name, timestamp")
    with pytest.raises(DataError, match=message):
        read_likes(path)


def test_missing_column(write):
    path = write(f"modelname|mid\nm|{hex_id(1)}\n")
    with pytest.raises(DataError, match=where(path, 1) + r".*\(missing 'user' or 'uid'\)"):
        read_likes(path)


def test_unknown_column_is_refused_not_ignored(write):
    path = write(plain_csv([("1", "31", "2.5")], header=("user", "item", "rating")), "likes.csv")
    with pytest.raises(DataError, match=where(path, 1) + r".*\(unknown 'rating'\)"):
        read_likes(path)


def test_column_named_twice(write):
    path = write(plain_csv([("1", "2", "3")], header=("user", "uid", "item")), "likes.csv")
    with pytest.raises(DataError, match=where(path, 1) + r".*\('uid' named twice\)"):
        read_likes(path)


def test_features_file_given_to_read_likes(write):
    path = write(features_text())
    with pytest.raises(DataError, match="looks like a features table; read it with read_features"):
        read_likes(path)


def test_likes_file_given_to_read_features(write):
    path = write(likes_text(), FEATURES)
    with pytest.raises(DataError, match="looks like a likes table; read it with read_likes"):
        read_features(path)


@pytest.mark.parametrize("sep, name", [(",", "comma"), ("\t", "tab")])
def test_wrong_separator(write, sep, name):
    path = write(likes_text().replace("|", sep))
    message = f".*has no '\\|' but has {name}s; the file looks {name}-separated.*sep='\\|'"
    with pytest.raises(DataError, match=where(path, 1) + message):
        read_likes(path)


def test_pipes_in_a_csv_file(write):
    path = write(likes_text(), "likes.csv")
    with pytest.raises(DataError, match=where(path, 1) + ".*looks pipe-separated.*end in .psv"):
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


def test_messages_use_the_files_column_names(write):
    path = write(plain_csv([("u1", "i1"), ("", "i2")]), "likes.csv")
    with pytest.raises(DataError, match=where(path, 3) + " column 'user' is empty.*a user;"):
        read_likes(path)


def test_row_of_empty_fields_is_not_a_blank_line(write):
    path = write(likes_text(2) + "||\n")
    with pytest.raises(DataError, match=where(path, 4) + " column 'mid' is empty"):
        read_likes(path)


@pytest.mark.parametrize("column, value", [
    ("uid", " " + hex_id(7)[1:]),
    ("uid", hex_id(7) + " "),
    ("mid", "item_42\t"),
    ("mid", "  "),
])
def test_white_space_around_an_id_names_the_line(write, column, value):
    rows = [[f"Model {i}", hex_id(i), hex_id(100 + i)] for i in range(5)]
    rows[2][1 if column == "mid" else 2] = value
    path = write(psv(rows))
    with pytest.raises(DataError, match=where(path, 4) + f" column '{column}' holds "
                       f"{re.escape(repr(value))}, which has white space around it; 1 row"):
        read_likes(path)


def test_space_after_the_comma_of_a_csv(write):
    path = write("user,item\nuser_1, item_42\n", "likes.csv")
    with pytest.raises(DataError, match=where(path, 2) + " column 'item' holds ' item_42', "
                       "which has white space around it.*a space after the separator"):
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


def test_too_few_fields_in_a_csv(write):
    path = write("user,item,name\nu1,i1,a\nu2,i2\n", "likes.csv")
    message = (r" expected 3 fields \(user,item,name\), found 2\. If a field contains ',', wrap "
               "it in double quotes")
    with pytest.raises(DataError, match=where(path, 3) + message):
        read_likes(path)


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


def test_unclosed_double_quote_in_a_csv(write):
    path = write('user,item,name\nu1,i1,a\nu2,i2,"broken\nu3,i3,c\n', "likes.csv")
    with pytest.raises(DataError, match=where(path, 3) + " a field opened with a double quote"):
        read_likes(path)


def test_empty_feature_type_names_the_line(write):
    path = write(features_text() + f"{hex_id(4)}||x\n{hex_id(4)}||y\n", FEATURES)
    message = (" column 'type' is empty; 2 row\\(s\\) in all, on line\\(s\\) 5, 6\\. "
               "Every row needs a type")
    with pytest.raises(DataError, match=where(path, 5) + message):
        read_features(path)


def test_empty_feature_mid(write):
    path = write(features_text() + "|tag|x\n", FEATURES)
    with pytest.raises(DataError, match=where(path, 5) + " column 'mid' is empty"):
        read_features(path)


# ------------------------------------------------------------------ ground truth


def test_read_ground_truth_of_the_sample():
    model_topics, user_topics = read_ground_truth(config.SAMPLE_DIR)
    assert model_topics.columns.tolist() == ["mid", "topic"]
    assert user_topics.columns.tolist() == ["uid", "topic", "weight"]
    assert user_topics["weight"].dtype == float
    assert "tiltbrush" in set(model_topics["topic"])


def test_read_ground_truth_rejects_bad_files(tmp_path):
    path = tmp_path / "truth.psv"
    path.write_text("kind|id|topic\nmodel|a|b\n")
    with pytest.raises(DataError, match=where(path, 1) + r".*\(missing 'weight'\)"):
        read_ground_truth(path)
    path.write_text("kind|id|topic|weight\nmodel|a|b|1.0\nitem|c|d|1.0\n")
    with pytest.raises(DataError, match=where(path, 3) + " column 'kind' holds 'item', which is "
                       "not 'model' or 'user'"):
        read_ground_truth(path)
    path.write_text("kind|id|topic|weight\nuser|a|b|heavy\n")
    with pytest.raises(DataError, match=where(path, 2) + " column 'weight' holds 'heavy', which "
                       "is not a number"):
        read_ground_truth(path)


# ------------------------------------------------------------------ datasets


def test_load_dataset_sample_is_synthetic_with_truth():
    ds = load_dataset("sample")
    assert ds.name == "sample" and ds.synthetic and "SYNTHETIC" in ds.description
    assert list(ds.likes.columns) == ["modelname", "mid", "uid"]
    assert list(ds.features.columns) == ["mid", "type", "value"]
    assert set(ds.model_topics["mid"]) >= set(ds.likes["mid"])
    assert "tiltbrush" in set(ds.model_topics["topic"])
    names = set(ds.likes["modelname"])
    assert {"NA", "Floor Plan A\\B"} <= names and any("|" in n for n in names)


def test_load_dataset_missing_files_say_which_make_target(tmp_path):
    with pytest.raises(DataError, match=r"run `make data` \(needs internet\)"):
        load_dataset("sketchfab", data_dir=tmp_path)
    with pytest.raises(DataError, match="make synthetic-full"):
        load_dataset("synthetic-full", data_dir=tmp_path)
    with pytest.raises(ValueError, match="Unknown dataset 'nope'.*or give the path of a folder"):
        load_dataset("nope")
    with pytest.raises(ValueError, match="data_dir= is for the named datasets"):
        load_dataset(tmp_path, data_dir=tmp_path)


def test_load_own_csv_folder():
    ds = load_dataset(OWN)
    assert ds.name == "own_likes" and not ds.synthetic
    assert ds.model_topics is None and ds.user_topics is None
    assert ds.description == ("own_likes: 186 like rows, 32 feature rows, from "
                              "tests/data/own_likes/")
    assert ds.likes.columns.tolist() == ["modelname", "mid", "uid", "timestamp"]
    assert ds.likes.attrs["n_duplicates"] == 2
    assert set(ds.features["type"]) == {"genre", "decade"}
    assert {"NA", "Sword, Low Poly", 'The "Old" Tower'} <= set(ds.likes["modelname"])


def test_load_own_psv_folder_without_features():
    ds = load_dataset(str(OWN_PSV))
    assert ds.name == "own_likes_psv" and not ds.synthetic and ds.features is None
    assert "no features table" in ds.description
    assert set(ds.likes["uid"]) == {str(u) for u in range(1, 9)}
    assert {"Sword | Low Poly", "Floor Plan A\\B", "NA"} <= set(ds.likes["modelname"])


def test_relative_path_works_from_another_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # as a notebook runs in notebooks/
    assert load_dataset("tests/data/own_likes").name == "own_likes"


def test_folder_with_ground_truth_is_synthetic(tmp_path):
    folder = tmp_path / "my copy"
    shutil.copytree(config.SAMPLE_DIR, folder)
    ds = load_dataset(folder)
    assert ds.name == "my copy" and ds.synthetic and ds.model_topics is not None
    assert ds.description.startswith("my copy: SYNTHETIC data")


def test_folder_without_or_with_two_likes_tables(tmp_path):
    with pytest.raises(DataError, match=re.escape(f"{tmp_path}: no likes table. Put one there "
                                                  "named likes.csv, likes.tsv, likes.psv or")):
        load_dataset(tmp_path)
    shutil.copy(OWN / "likes.csv", tmp_path / "likes.csv")
    shutil.copy(OWN_PSV / "likes.psv", tmp_path / "likes.psv")
    with pytest.raises(DataError, match="holds likes.csv and likes.psv; keep one likes table"):
        load_dataset(tmp_path)


@pytest.mark.parametrize("folder, user_min, split_count", [(OWN, 5, 5), (OWN_PSV, 2, 1)])
def test_own_data_runs_end_to_end(folder, user_min, split_count):
    ds = load_dataset(folder)
    likes = ds.likes.drop_duplicates()
    core = threshold_interactions(likes, user_min=user_min, item_min=user_min, verbose=False)
    inter = build_interactions(core)
    train, test, users = train_test_split(inter.matrix, split_count=split_count, fraction=0.2,
                                          random_state=0)
    assert test.nnz == split_count * len(users) > 0
    model = AlternatingLeastSquares(factors=4, iterations=5, random_state=0, num_threads=1)
    model.fit(train, show_progress=False)
    p = metrics.precision_at_k(model, test, k=2, users=users, exclude=train)
    assert 0.0 <= p <= 1.0
    if ds.features is not None:
        features = build_item_features(ds.features, inter.item_ids)
        assert features.shape[0] == len(inter.item_ids)
        assert "genre_fantasy" in set(features.feature_names)


# ------------------------------------------------------------------ the crawl's id formats


def crawl_folder(tmp_path, likes_rows, feature_rows=None):
    folder = tmp_path / "crawl"
    folder.mkdir()
    (folder / LIKES).write_text(psv(likes_rows))
    feature_rows = feature_rows or [(likes_rows[0][1], "tag", "x")]
    (folder / FEATURES).write_text(psv(feature_rows, header=("mid", "type", "value")))
    return folder


def test_crawl_ids_are_accepted_older_model_ids_included(tmp_path):
    mids = ["b7LzIm8JrnPw4GBDOMBNGYc39qM", "dGUrytaktlDeNudCEGKk31oTJY", hex_id(5)]
    folder = crawl_folder(tmp_path, [("m", mid, hex_id(9)) for mid in mids])
    ds = load_dataset("sketchfab", data_dir=folder)
    assert ds.likes["mid"].tolist() == mids
    assert ds.name == "sketchfab" and not ds.synthetic
    assert "the real Sketchfab crawl" in ds.description


@pytest.mark.parametrize("column, value", [
    ("uid", hex_id(0xABCDEF).upper()),  # uppercase
    ("uid", hex_id(7)[:31]),         # too short
    ("uid", hex_id(7) + "0"),        # too long
    ("uid", "b7LzIm8JrnPw4GBDOMBNGYc39qM"),  # a model id where a user id belongs
    ("uid", "user_17"),
    ("mid", "Model 3"),              # the name in the id column
    ("mid", "short1"),
    ("mid", "é" * 32),
])
def test_crawl_with_invalid_ids_names_the_line(tmp_path, column, value):
    rows = [[f"Model {i}", hex_id(i), hex_id(100 + i)] for i in range(5)]
    rows[2][1 if column == "mid" else 2] = value
    folder = crawl_folder(tmp_path, rows)
    kind = "user" if column == "uid" else "model"
    with pytest.raises(DataError, match=where(folder / LIKES, 4) + f" column '{column}' holds "
                       f"{re.escape(repr(value))}, which is not a valid {kind} id of the "
                       r"Sketchfab crawl.*load_dataset\('path/to/folder'\)"):
        load_dataset("sketchfab", data_dir=folder)


def test_crawl_features_with_invalid_model_id(tmp_path):
    rows = [("m", hex_id(1), hex_id(2))]
    folder = crawl_folder(tmp_path, rows, [(hex_id(1), "tag", "a"), ("item_42", "tag", "b")])
    with pytest.raises(DataError, match=where(folder / FEATURES, 3) + " column 'mid' holds "
                       "'item_42', which is not a valid model id"):
        load_dataset("sketchfab", data_dir=folder)


def test_crawl_ids_are_not_checked_for_other_folders(tmp_path):
    folder = crawl_folder(tmp_path, [("m", "item_42", "user_17")])
    assert load_dataset(folder).likes["uid"].tolist() == ["user_17"]


# ------------------------------------------------------------------ the tables against each other


def own_folder(tmp_path, liked, featured):
    """A folder of one's own: likes.csv of ``liked`` items and features.csv of ``featured`` ones."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "likes.csv").write_text(plain_csv([(f"user_{i % 2}", item)
                                                 for i, item in enumerate(liked)]))
    (folder / "features.csv").write_text(plain_csv([(item, "genre", "fantasy") for item in featured],
                                                   header=("item", "type", "value")))
    return folder


def test_features_matching_no_liked_item_are_refused(tmp_path):
    folder = own_folder(tmp_path, ["item_1", "item_2", "item_3"], ["1", "2"])
    with pytest.raises(DataError, match=re.escape(
            f"{folder}: the item ids of features.csv match none of likes.csv's: features.csv has "
            "'1', likes.csv has 'item_1' (the first of 2 and 3 distinct ids). Write each item's "
            "id the same way in the item column of both files")):
        load_dataset(folder)


def test_crawl_features_matching_no_liked_model_are_refused(tmp_path):
    folder = crawl_folder(tmp_path, [("m", hex_id(1), hex_id(2))], [(hex_id(3), "tag", "a")])
    with pytest.raises(DataError, match=re.escape(
            f"{folder}: the item ids of {FEATURES} match none of {LIKES}'s: {FEATURES} has "
            f"'{hex_id(3)}', {LIKES} has '{hex_id(1)}'")):
        load_dataset("sketchfab", data_dir=folder)


def test_features_matching_some_liked_items_warn_both_counts(tmp_path):
    folder = own_folder(tmp_path, ["item_1", "item_2", "item_3"],
                        ["item_1", "item_9", "item_2", "item_8"])
    with pytest.warns(UserWarning, match=re.escape(
            f"{folder}: 1 of the 3 liked items has no features in features.csv (e.g. 'item_3'); "
            "2 of the 4 items in features.csv have no like in likes.csv (e.g. 'item_9'), so "
            "their features go unused. If an item is in both tables, write its id the same way "
            "in the item column of both files.")) as record:
        ds = load_dataset(folder)
    assert record[0].filename == __file__  # points at the caller of load_dataset
    assert len(ds.features) == 4  # reported, not dropped


@pytest.mark.parametrize("liked, featured, message", [
    (["a", "b", "c"], ["a"], "2 of the 3 liked items have no features in features.csv (e.g. 'b'). "),
    (["a"], ["a", "z"], (": 1 of the 2 items in features.csv has no like in likes.csv "
                         "(e.g. 'z'), so its features go unused. ")),
], ids=["liked items without features", "features without likes"])
def test_a_one_sided_partial_match_says_only_that_side(tmp_path, liked, featured, message):
    with pytest.warns(UserWarning, match=re.escape(message)) as record:
        load_dataset(own_folder(tmp_path, liked, featured))
    assert len(record) == 1 and ";" not in str(record[0].message)


def test_matching_tables_and_synthetic_data_load_without_a_warning(tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(config.SAMPLE_DIR, copy)  # some liked models have no features, by design
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for data in ("sample", OWN, copy):
            load_dataset(data)
