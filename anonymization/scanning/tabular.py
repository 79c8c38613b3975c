"""Tables (CSV, TSV, every sheet of an XLSX or ODS, hidden ones too) and plain text, Markdown and JSON:
identifying headers, identifying values (the detector, on every cell and line), formulas."""
import csv
import datetime
import functools
import io
import json
import re

from django.conf import settings

from .. import detector
from ..filetypes import text_encoding
from . import patterns
from .documents import ODF_CELLS, ODF_PARAGRAPHS, odf, odf_text, scan_opendocument
from .report import REPORT_SUBJECT, Report, add_text_findings

# Cells that cannot hold an identifier on their own, skipped without running the detector: a single
# word, a short number, a short code. Tables are mostly such cells; the detector runs on the rest.
# A pseudonymous study id such as S-0001234 or SUBJ_17 is inert too: a record number under a header
# that says so is caught by its column.
_INERT = re.compile(
    r"[A-Za-z]{1,40}|[+-]?\d{1,6}(?:[.,]\d+)?(?:[eE][+-]?\d+)?%?|[+-]?[.,]\d+|[A-Za-z]{0,3}\d{0,3}"
    r"|[A-Za-z]{1,8}[-_]\d{1,9}|\d{4}-W\d{1,2}|\d{1,3}(?:-\d{1,3}|\+)|[A-Za-z][a-z]*(?:[ /-][a-z]+){0,3}"
)
# Columns whose every value is an identifier whatever it looks like (from the header's words).
_IDENTIFIER_COLUMNS = ("name", "email", "phone", "date_of_birth", "address", "postcode", "national_id",
                       "medical_record")


@functools.lru_cache(maxsize=65536)
def _cell_findings(text: str, column_kind: str | None, header: str) -> tuple:
    """(subject, value, confidence) found in one cell; cached, since tables repeat their values."""
    if column_kind not in _IDENTIFIER_COLUMNS and _INERT.fullmatch(text):
        return ()
    return tuple(
        (REPORT_SUBJECT.get(finding.kind, finding.kind), finding.value, finding.confidence)
        for finding in detector.value_identifiers(text, column_kind=column_kind, header=header)
    )


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
        self.kinds: list[str | None] = []
        self.dates: dict[int, list] = {}

    def cell(self, row: int, column: int) -> str:
        return f"{self.prefix}{_column_letter(column)}{row}"

    def header(self, column: int) -> str:
        """The column's header for the report, or its letter when the first row looks like data
        (a file without a header row must not put a patient's value into the report)."""
        text = self.headers[column] if column < len(self.headers) else ""
        if not text or patterns.value_category(text) or patterns.full_date(text) or "@" in text:
            return _column_letter(column)
        return text

    def feed(self, row_number: int, values) -> None:
        if row_number == 1:
            self.headers = ["" if value is None else str(value).strip()[:80] for value in values]
            self.kinds = [patterns.header_category(header) for header in self.headers]
            for column, category in enumerate(self.kinds):
                if category:
                    self.report.add("identifier_column", subject=category, detail=self.header(column),
                                    cell=self.cell(1, column))
        for column, value in enumerate(values):
            if value is None or value == "":
                continue
            column_kind = self.kinds[column] if column < len(self.kinds) else None
            if row_number > 1 and (not isinstance(value, str) or 6 <= len(value) <= 30 and value[:1].isdigit()):
                date = patterns.full_date(value)
                if date is not None:
                    if column_kind == "date_of_birth":
                        self.report.add("identifier_value", subject="date_of_birth", detail=self.header(column),
                                        cell=self.cell(row_number, column), value=str(value)[:30])
                    else:
                        self.dates.setdefault(column, []).append((row_number, date))
                    continue
            if not isinstance(value, str):
                if row_number > 1 and column_kind in _IDENTIFIER_COLUMNS and isinstance(value, int | float):
                    value = str(value)  # a record number or phone number stored as a number
                else:
                    continue
            if patterns.is_formula(value):
                self.report.add("formula", cell=self.cell(row_number, column))
            elif row_number > 1:
                # A whole cell that is an identifier, or one inside free text ("call +44 …").
                header = self.headers[column] if column < len(self.headers) else ""
                for subject, found, confidence in _cell_findings(value.strip()[:2000], column_kind, header):
                    self.report.add("identifier_value", subject=subject, detail=self.header(column),
                                    cell=self.cell(row_number, column), value=found, confidence=confidence)

    def finish(self) -> None:
        for column, found in self.dates.items():
            if patterns.looks_like_birth_dates([date for _row, date in found]):
                for row_number, date in found:
                    self.report.add("identifier_value", subject="date_of_birth", detail=self.header(column),
                                    cell=self.cell(row_number, column), value=date.isoformat())


def _text_stream(file):
    file.seek(0)
    head = file.read(65536)
    file.seek(0)
    return io.TextIOWrapper(file, encoding=text_encoding(head), errors="replace", newline="")


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


MAX_JSON_BYTES = 20 * 1024 * 1024
MAX_JSON_DEPTH = 64


def scan_text(file, report: Report, *, name: str = "") -> None:
    """Plain text and Markdown line by line; JSON as its keys and values where it parses."""
    if name.lower().endswith(".json") and _scan_json(file, report):
        return
    stream = _text_stream(file)
    try:
        for line_number, line in enumerate(_bounded_lines(stream, report), start=1):
            add_text_findings(report, line, cell=f"line {line_number}")
            if line_number >= settings.ANONYMIZATION_SCAN_MAX_CELLS // 10:
                report.add("partial_scan", detail=f"first {line_number} lines")
                break
    finally:
        stream.detach()


def _scan_json(file, report: Report) -> bool:
    """Every string and number of a JSON document, with its key as the header (so "dob" or "mrn"
    values are found whatever they look like). False when it is not JSON we can read whole."""
    file.seek(0, 2)
    size = file.tell()
    if size > MAX_JSON_BYTES:
        return False
    stream = _text_stream(file)
    try:
        document = json.loads(stream.read())
    except (ValueError, RecursionError):
        return False
    finally:
        stream.detach()
    stack = [(document, "", "$", 0)]
    seen = 0
    while stack:
        value, key, path, depth = stack.pop()
        seen += 1
        if seen > settings.ANONYMIZATION_SCAN_MAX_CELLS or depth > MAX_JSON_DEPTH:
            report.add("partial_scan", detail="a very large or deep JSON document")
            return True
        if isinstance(value, dict):
            for child_key, child in value.items():
                category = patterns.header_category(child_key)
                if category:
                    report.add("identifier_column", subject=category, detail=str(child_key)[:80], cell=path)
                stack.append((child, str(child_key), f"{path}.{str(child_key)[:40]}", depth + 1))
        elif isinstance(value, list):
            stack.extend((child, key, f"{path}[{index}]", depth + 1) for index, child in enumerate(value))
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            category = patterns.header_category(key)
            text = str(value).strip()
            if category == "date_of_birth" and text:
                report.add("identifier_value", subject="date_of_birth", detail=key[:80], cell=path, value=text)
                continue
            if isinstance(value, str) or category in _IDENTIFIER_COLUMNS:
                for subject, found, confidence in _cell_findings(text[:2000], category, key[:80]):
                    report.add("identifier_value", subject=subject, detail=key[:80], cell=path, value=found,
                               confidence=confidence)
    return True


def scan_xlsx(file, report: Report) -> None:
    from openpyxl import load_workbook

    file.seek(0)
    workbook = load_workbook(file, read_only=True, data_only=False)
    cells = 0
    try:
        for worksheet in workbook.worksheets:
            if getattr(worksheet, "sheet_state", "visible") != "visible":
                report.add("hidden_sheet", detail=worksheet.title[:40])
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


# --- OpenDocument spreadsheets ----------------------------------------------------------------------

ODS_MAX_COLUMNS = 16384  # the most columns LibreOffice Calc has; cells beyond are not read
# Copies of one repeated non-empty row that are read (at most ODS_MAX_ROW_COPIES, and no more than
# ODS_MAX_COPIED_CELLS cells): further copies hold the same values, so they add cells to the report, never
# a new kind of finding, and a few bytes of XML cannot cost minutes of scan.
ODS_MAX_ROW_COPIES = 1000
ODS_MAX_COPIED_CELLS = 100_000


def _ods_repeat(element, attribute: str) -> int:
    """A repeat count (table:number-rows-repeated, table:number-columns-repeated), at least 1."""
    value = element.get(odf(attribute), "1")
    return max(int(value), 1) if value.isdigit() and len(value) < 12 else 1


def _ods_value(attributes, paragraphs: list[str]):
    """A cell's value as the XLSX scan sees one: numbers as numbers, dates as dates, text as text."""
    value_type = attributes.get(odf("office:value-type"))
    try:
        if value_type in ("float", "percentage", "currency"):
            number = float(attributes.get(odf("office:value"), ""))
            return int(number) if number.is_integer() and abs(number) < 2**53 else number
        if value_type == "date":
            value = attributes.get(odf("office:date-value"), "")
            return datetime.date.fromisoformat(value) if len(value) == 10 else datetime.datetime.fromisoformat(value)
        if value_type == "boolean":
            return attributes.get(odf("office:boolean-value")) == "true"
    except ValueError:
        pass  # a value the file spells wrongly is read as the text it shows
    return "\n".join(paragraphs) or attributes.get(odf("office:string-value")) or None


class _OdsSheets:
    """content.xml of an OpenDocument spreadsheet fed to _Sheet row by row. Repeated empty cells and rows
    are counted, never built; repeated values are built up to ODS_MAX_COLUMNS and ODS_MAX_ROW_COPIES."""

    def __init__(self, report: Report):
        self.report = report
        self.max_cells = settings.ANONYMIZATION_SCAN_MAX_CELLS
        self.cells = 0
        self.hidden_styles: set[str] = set()
        self.depth = 0  # tables inside tables (in a cell or a shape) are text, read by the document scan
        self.sheet: _Sheet | None = None
        self.name = ""
        self.row_number = 0
        self.row: list | None = None
        self.cell = None

    def handle(self, event: str, element, ancestors) -> bool:
        """Take one event of odf_events; False when the cell budget is spent."""
        tag = element.tag
        if event == "start":
            if tag == odf("style:table-properties") and element.get(odf("table:display")) == "false" and ancestors:
                self.hidden_styles.add(ancestors[-1].get(odf("style:name")))
            elif tag == odf("table:table"):
                self.depth += 1
                if self.depth == 1 and ancestors and ancestors[-1].tag == odf("office:spreadsheet"):
                    self._start_sheet(element)
            elif self.sheet is not None and self.depth == 1:
                if tag == odf("table:table-row"):
                    self.row, self.formulas, self.pending = [], [], 0
                    self.copies = _ods_repeat(element, "table:number-rows-repeated")
                elif tag in ODF_CELLS and self.row is not None:
                    self.cell, self.paragraphs = element, []
            return True
        if tag == odf("table:table"):
            if self.depth == 1 and self.sheet is not None:
                self.sheet.finish()
                self.sheet = None
            self.depth -= 1
        elif self.sheet is None or self.depth != 1:
            pass
        elif tag in ODF_PARAGRAPHS and ancestors and ancestors[-1] is self.cell:
            self.paragraphs.append(odf_text(element))  # the cell's own text, not its comment's
        elif element is self.cell:
            self._end_cell(element)
            self.cell = None
        elif tag == odf("table:table-row") and self.row is not None:
            return self._end_row()
        return True

    def _start_sheet(self, element) -> None:
        self.name = (element.get(odf("table:name")) or "")[:40]
        if element.get(odf("table:style-name")) in self.hidden_styles:
            self.report.add("hidden_sheet", detail=self.name)
        self.sheet = _Sheet(self.report, prefix=f"{self.name}!")
        self.row_number = 0

    def _end_cell(self, cell) -> None:
        count = _ods_repeat(cell, "table:number-columns-repeated")
        formula = cell.get(odf("table:formula"))
        value = _ods_value(cell.attrib, self.paragraphs)
        if value is None and not formula:
            self.pending = min(self.pending + count, ODS_MAX_COLUMNS)  # empty cells: counted, not built
            return
        start = len(self.row) + self.pending
        take = max(min(count, ODS_MAX_COLUMNS - start), 0)
        if take < count:
            self.report.add("partial_scan", detail=f"columns after {_column_letter(ODS_MAX_COLUMNS - 1)}")
        if not take:
            return
        self.row.extend([None] * self.pending)
        self.pending = 0
        self.row.extend([value if value is not None else ""] * take)
        if formula:
            self.formulas.extend(range(start, start + take))

    def _end_row(self) -> bool:
        row, self.row = self.row, None
        if row or self.row_number == 0:  # the first row is the header row, even empty
            copies = min(self.copies, ODS_MAX_ROW_COPIES, max(ODS_MAX_COPIED_CELLS // max(len(row), 1), 1))
            for copy in range(copies if row else 1):
                number = self.row_number + 1 + copy
                self.sheet.feed(number, row)
                for column in self.formulas:
                    self.report.add("formula", cell=self.sheet.cell(number, column))
                self.cells += len(row)
                if self.cells >= self.max_cells:
                    self.report.add("partial_scan", detail=f"stopped in sheet {self.name}")
                    self.sheet.finish()
                    self.sheet = None
                    return False
        self.row_number += self.copies
        return True


def scan_ods(file, report: Report) -> None:
    """An OpenDocument spreadsheet: every sheet, hidden ones too, cell by cell as for CSV and XLSX, with
    formulas, stopping at ANONYMIZATION_SCAN_MAX_CELLS; and, in the same streamed pass over content.xml,
    its other text, comments and metadata (documents.scan_opendocument)."""
    scan_opendocument(file, report, sheets=_OdsSheets(report).handle)
