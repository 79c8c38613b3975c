"""Tables (CSV, TSV, every sheet of an XLSX) and plain text: identifying headers and values, formulas."""
import csv
import io

from django.conf import settings

from . import patterns
from .report import Report


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


class _Sheet:
    """Findings for one table, fed row by row; `prefix` names the sheet in cell references."""

    def __init__(self, report: Report, prefix: str = ""):
        self.report, self.prefix = report, prefix
        self.headers: list[str] = []
        self.dates: dict[int, list] = {}

    def cell(self, row: int, column: int) -> str:
        return f"{self.prefix}{_column_letter(column)}{row}"

    def header(self, column: int) -> str:
        """The column's header for the report, or its letter when the first row looks like data
        (a file without a header row must not put a patient's value into the report)."""
        text = self.headers[column] if column < len(self.headers) else ""
        if not text or patterns.value_category(text) or patterns.full_date(text) or patterns.EMAIL.search(text):
            return _column_letter(column)
        return text

    def feed(self, row_number: int, values) -> None:
        if row_number == 1:
            self.headers = ["" if value is None else str(value).strip()[:80] for value in values]
            for column, header in enumerate(self.headers):
                category = patterns.header_category(header)
                if category:
                    self.report.add("identifier_column", subject=category, detail=self.header(column),
                                    cell=self.cell(1, column))
        for column, value in enumerate(values):
            if value is None or value == "":
                continue
            if row_number > 1:
                date = patterns.full_date(value)
                if date is not None:
                    self.dates.setdefault(column, []).append((row_number, date))
                    continue
            if not isinstance(value, str):
                continue
            if patterns.is_formula(value):
                self.report.add("formula", cell=self.cell(row_number, column))
            elif row_number > 1:
                # A whole cell that is an identifier, or one inside free text ("call +44 …").
                category = patterns.value_category(value) or next(patterns.text_categories(value[:2000]), None)
                if category:
                    self.report.add("identifier_value", subject=category, detail=self.header(column),
                                    cell=self.cell(row_number, column))

    def finish(self) -> None:
        for column, found in self.dates.items():
            if patterns.header_category(self.header(column)) == "date_of_birth":
                continue  # already reported by its header
            if patterns.looks_like_birth_dates([date for _row, date in found]):
                for row_number, _date in found:
                    self.report.add("identifier_value", subject="date_of_birth", detail=self.header(column),
                                    cell=self.cell(row_number, column))


def _text_stream(file):
    file.seek(0)
    head = file.read(65536)
    file.seek(0)
    try:
        head.decode("utf-8-sig")
        encoding = "utf-8-sig"
    except UnicodeDecodeError as error:
        encoding = "utf-8-sig" if error.start >= len(head) - 3 else "cp1252"
    return io.TextIOWrapper(file, encoding=encoding, errors="replace", newline="")


MAX_LINE = 1024 * 1024


def _bounded_lines(stream, report: Report):
    """Lines of at most MAX_LINE characters; a longer one ends the scan (memory stays bounded)."""
    while line := stream.readline(MAX_LINE):
        if len(line) >= MAX_LINE and not line.endswith("\n"):
            report.add("unreadable", detail="a line longer than 1 MB")
            return
        yield line


def scan_delimited(file, report: Report, *, delimiter: str) -> None:
    max_cells = settings.ANONYMIZATION_SCAN_MAX_CELLS
    csv.field_size_limit(1024 * 1024)
    stream = _text_stream(file)
    sample = stream.read(65536)
    stream.seek(0)
    if delimiter == ",":
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            pass
    sheet = _Sheet(report)
    cells = 0
    try:
        for row_number, row in enumerate(csv.reader(_bounded_lines(stream, report), delimiter=delimiter), start=1):
            sheet.feed(row_number, row)
            cells += len(row)
            if cells >= max_cells:
                report.add("partial_scan", detail=f"first {row_number} rows")
                break
    except csv.Error as error:
        report.add("unreadable", detail=str(error)[:100])
    finally:
        stream.detach()
    sheet.finish()


def scan_text(file, report: Report) -> None:
    stream = _text_stream(file)
    try:
        for line_number, line in enumerate(_bounded_lines(stream, report), start=1):
            for category in patterns.text_categories(line[:10000]):
                report.add("identifier_text", subject=category, cell=f"line {line_number}")
            if line_number >= settings.ANONYMIZATION_SCAN_MAX_CELLS // 10:
                report.add("partial_scan", detail=f"first {line_number} lines")
                break
    finally:
        stream.detach()


def scan_xlsx(file, report: Report) -> None:
    from openpyxl import load_workbook

    file.seek(0)
    workbook = load_workbook(file, read_only=True, data_only=False)
    cells = 0
    try:
        for worksheet in workbook.worksheets:
            sheet = _Sheet(report, prefix=f"{worksheet.title[:40]}!")
            for row_number, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
                sheet.feed(row_number, row)
                cells += len(row)
                if cells >= settings.ANONYMIZATION_SCAN_MAX_CELLS:
                    report.add("partial_scan", detail=f"stopped in sheet {worksheet.title[:40]}")
                    sheet.finish()
                    return
            sheet.finish()
    finally:
        workbook.close()
