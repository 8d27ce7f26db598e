"""FileToolkit and TableToolkit: one folder, no way out, size caps, spreadsheets summarized."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from selectools import Agent, RefusedError, ScriptedProvider, ToolkitError, call
from selectools.toolbox import FileToolkit, TableToolkit


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    root = tmp_path / "shared"
    (root / "reports").mkdir(parents=True)
    (root / "reports" / "q1.txt").write_text("Revenue grew 12%.\n")
    (root / "notes.txt").write_text("n" * 5000)
    (root / ".env").write_text("OPENAI_API_KEY=sk-secret\n")
    (root / ".git").mkdir()
    (root / "image.bin").write_bytes(b"\x89PNG\x00\x00\x00")
    secret = tmp_path / "secret.txt"
    secret.write_text("outside the folder")
    (root / "escape").symlink_to(secret)
    (root / "escape_dir").symlink_to(tmp_path)
    (root / "inside_link.txt").symlink_to(root / "notes.txt")
    os.mkfifo(root / "pipe")
    return root


def test_list_and_read_inside_the_folder(shared: Path) -> None:
    kit = FileToolkit(shared, max_bytes=1000)
    listed = kit.list_files()
    paths = {e["path"]: e["type"] for e in listed["entries"]}
    assert paths["reports"] == "folder"
    assert paths["notes.txt"] == "file"
    assert paths["escape"] == "link"
    assert ".env" not in paths
    assert ".git" not in paths
    assert kit.list_files(folder=".", pattern="*.txt", recursive=True)["entries"][-1]["path"] == (
        "reports/q1.txt"
    )
    assert kit.read_file(path="reports/q1.txt")["text"] == "Revenue grew 12%.\n"
    assert kit.read_file(path="inside_link.txt")["bytes"] == 5000  # a link that stays inside


def test_reads_are_capped_and_can_continue(shared: Path) -> None:
    kit = FileToolkit(shared, max_bytes=1000)
    first = kit.read_file(path="notes.txt")
    assert len(first["text"]) == 1000
    assert "offset=1000" in first["truncated"]
    rest = kit.read_file(path="notes.txt", offset=4500)
    assert len(rest["text"]) == 500
    assert "truncated" not in rest


@pytest.mark.parametrize(
    ("path", "refusal"),
    [
        ("../secret.txt", "outside the folder"),
        ("reports/../../secret.txt", "outside the folder"),
        ("/etc/passwd", "is absolute"),
        ("C:/Windows/win.ini", "is absolute"),
        ("escape", "outside the folder"),
        ("escape_dir/secret.txt", "outside the folder"),
        (".env", "is hidden"),
        ("reports/../.env", "is hidden"),
        (".git/config", "is hidden"),
        ("pipe", "not a regular file"),
        ("image.bin", "binary file"),
        ("notes.txt\x00.jpg", "NUL"),
    ],
)
def test_every_way_out_is_refused(shared: Path, path: str, refusal: str) -> None:
    kit = FileToolkit(shared)
    with pytest.raises(RefusedError) as caught:
        kit.read_file(path=path)
    assert refusal in str(caught.value)


def test_listing_cannot_leave_the_folder_either(shared: Path) -> None:
    kit = FileToolkit(shared)
    for folder in ("..", "escape_dir", "/"):
        with pytest.raises(RefusedError):
            kit.list_files(folder=folder)


def test_listing_is_capped(shared: Path) -> None:
    for i in range(30):
        (shared / f"f{i:02}.log").write_text("x")
    listed = FileToolkit(shared, max_entries=10).list_files(pattern="*.log")
    assert len(listed["entries"]) == 10
    assert listed["more"] is True


def test_missing_files_and_hidden_opt_in(shared: Path) -> None:
    with pytest.raises(ToolkitError, match="List the files first"):
        FileToolkit(shared).read_file(path="nope.txt")
    opened = FileToolkit(shared, allow_hidden=True)
    assert "sk-secret" in opened.read_file(path=".env")["text"]


def test_the_model_reads_a_refusal(shared: Path) -> None:
    kit = FileToolkit(shared)
    agent = Agent([kit], ScriptedProvider([call("read_file", path="../secret.txt"), "ok"]))
    [record] = agent.run("go").tool_calls
    assert record.error_type == "refused_error"
    assert "outside the folder" in (record.error or "")


CSV = """order_id,customer,total,placed
1001,Ada,120.50,2026-01-03
1002,Bob,80,2026-01-05
1003,,15.25,2026-02-10
"""


def test_a_csv_is_summarized(shared: Path) -> None:
    (shared / "orders.csv").write_text(CSV)
    summary = TableToolkit(shared).summarize_table(path="orders.csv")
    assert summary["rows"] == 3
    columns = {c["name"]: c for c in summary["columns"]}
    assert columns["order_id"]["type"] == "integer"
    assert (columns["order_id"]["min"], columns["order_id"]["max"]) == (1001, 1003)
    assert columns["total"]["mean"] == pytest.approx((120.5 + 80 + 15.25) / 3)
    assert columns["customer"]["empty"] == 1
    assert columns["placed"]["type"] == "date"
    assert columns["placed"]["max"] == "2026-02-10"
    assert summary["sample_rows"][0]["customer"] == "Ada"


def test_semicolon_csv_and_row_cap(shared: Path) -> None:
    rows = "a;b\n" + "".join(f"{i};x\n" for i in range(50))
    (shared / "semi.csv").write_text(rows)
    summary = TableToolkit(shared, max_rows=20).summarize_table(path="semi.csv")
    assert [c["name"] for c in summary["columns"]] == ["a", "b"]
    assert summary["rows"] == 20
    assert "Stopped after 20 rows" in summary["note"]


def test_an_xlsx_is_summarized(shared: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Orders"
    sheet.append(["sku", "qty"])
    sheet.append(["A-1", 3])
    sheet.append(["B-2", 5])
    book.create_sheet("Empty")
    book.save(shared / "stock.xlsx")
    summary = TableToolkit(shared).summarize_table(path="stock.xlsx")
    assert summary["sheets"] == ["Orders", "Empty"]
    assert summary["rows"] == 2
    assert {c["name"]: c["type"] for c in summary["columns"]} == {"sku": "text", "qty": "integer"}
    with pytest.raises(ToolkitError, match="No sheet 'Nope'"):
        TableToolkit(shared).summarize_table(path="stock.xlsx", sheet="Nope")


def test_table_refusals(shared: Path) -> None:
    kit = TableToolkit(shared, max_bytes=1000, max_unpacked_bytes=1_000_000)
    with pytest.raises(RefusedError, match="outside the folder"):
        kit.summarize_table(path="../secret.csv")
    (shared / "big.csv").write_text("a\n" + "1\n" * 1000)
    with pytest.raises(RefusedError, match="the limit is 1000"):
        kit.summarize_table(path="big.csv")
    with pytest.raises(ToolkitError, match=r"not a CSV or \.xlsx"):
        kit.summarize_table(path="notes.txt.exe")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * 50_000_000)
    (shared / "bomb.xlsx").write_bytes(bomb.getvalue())
    assert len(bomb.getvalue()) < 100_000  # small on disk, 50 MB unpacked
    with pytest.raises(RefusedError, match="would unpack to 50000000 bytes"):
        TableToolkit(shared, max_unpacked_bytes=1_000_000).summarize_table(path="bomb.xlsx")
