"""Tables (CSV, TSV, XLSX) made inert: every cell a spreadsheet would run as a formula is quoted."""
import codecs
import csv
import io
import re
import zipfile

from .. import filetypes

# --- Formulas (OWASP "CSV injection") ----------------------------------------------------------

# What a spreadsheet may take for the start of a formula, with the fullwidth forms some locales convert.
FORMULA_START = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
# A signed plain number (-3.5, +447700900123, -1e-5, -12%) is data, not a formula: kept as it is.
_SIGNED_NUMBER = re.compile(r"[+-](\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?%?")


def neutralize(value: str) -> str:
    """`value` made inert for a spreadsheet: prefixed with a single quote when it starts like a formula."""
    if not value or value[0] not in FORMULA_START or value in ("+", "-") or _SIGNED_NUMBER.fullmatch(value):
        return value
    return "'" + value


_OTHER_DELIMITERS = ",;\t|"


def _neutralize_field(value: str, delimiter: str) -> str:
    """A text table's field made inert, also where a spreadsheet opening the file with another
    delimiter than ours (a locale that splits on ";") would start a cell inside it."""
    for other in _OTHER_DELIMITERS:
        if other != delimiter and other in value:
            value = other.join(neutralize(part) for part in value.split(other))
    return neutralize(value)


MAX_LINE = 1024 * 1024  # characters; a longer line (or field) stops the copy, as it stops the scan
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _bounded_lines(stream):
    while line := stream.readline(MAX_LINE):
        if len(line) >= MAX_LINE and not line.endswith(("\n", "\r")):
            raise ValueError("a line longer than 1 MB; the table cannot be copied safely")
        yield line


def _neutralize_delimited(source, target, *, delimiter: str) -> None:
    """Rewrite a CSV/TSV row by row, formulas made inert, in UTF-8 (with a mark if the original had one)."""
    source.seek(0)
    head = source.read(65536)
    source.seek(0)
    # Decoded exactly as the scan decodes it (UTF-8, UTF-16 and -32, GB18030, else Windows-1252), so the
    # published cells are the cells the team reviewed.
    stream = io.TextIOWrapper(source, encoding=filetypes.text_encoding(head), errors="replace", newline="")
    marked = head.startswith(_BOMS)
    out = io.TextIOWrapper(target, encoding="utf-8-sig" if marked else "utf-8", newline="")
    try:
        sample = stream.read(65536)
        stream.seek(0)
        if delimiter == ",":  # as the scan reads it: the same dialect, so the same cells
            try:
                delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
            except csv.Error:
                pass
        csv.field_size_limit(MAX_LINE)
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n" if "\r\n" in sample else "\n")
        for row in csv.reader(_bounded_lines(stream), delimiter=delimiter):
            writer.writerow([_neutralize_field(cell, delimiter) for cell in row])
        out.flush()
    finally:
        stream.detach()
        out.detach()


# Workbooks whose sheets expand to more than this are streamed (values only, no formatting) instead of
# being loaded whole: openpyxl holds every cell of a loaded workbook in memory.
XLSX_FULL_LOAD_BYTES = 16 * 2**20


def _inert_cell_value(value):
    """A cell's value as published: a formula becomes its text, quoted; a formula-like text is quoted."""
    from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

    if isinstance(value, ArrayFormula):
        value = value.text or "="
    elif isinstance(value, DataTableFormula):
        value = f"=TABLE({value.r1 or ''},{value.r2 or ''})"
    return neutralize(value) if isinstance(value, str) else value


def _neutralize_xlsx(source, target) -> None:
    from openpyxl import Workbook, load_workbook

    source.seek(0)
    with zipfile.ZipFile(source) as archive:
        sheet_bytes = sum(member.file_size for member in archive.infolist()
                          if member.filename.startswith("xl/worksheets/") or member.filename == "xl/sharedStrings.xml")
    source.seek(0)
    if sheet_bytes <= XLSX_FULL_LOAD_BYTES:
        # keep_links=False drops links to other workbooks (external references are active content too).
        workbook = load_workbook(source, keep_links=False)
        for worksheet in workbook.worksheets:
            for row in worksheet.iter_rows():
                for cell in row:
                    if cell.data_type == "f" or isinstance(cell.value, str):
                        inert = _inert_cell_value(cell.value)
                        if inert != cell.value or cell.data_type == "f":
                            cell.value = inert  # a text starting with ' is stored as a string, never a formula
            for name in list(worksheet.defined_names):
                del worksheet.defined_names[name]
        for name in list(workbook.defined_names):
            del workbook.defined_names[name]  # names can hold formulas too
        workbook.save(target)
        return
    reader = load_workbook(source, read_only=True, keep_links=False)
    copy = Workbook(write_only=True)
    try:
        for worksheet in reader.worksheets:
            sheet = copy.create_sheet(title=worksheet.title)
            for row in worksheet.iter_rows(values_only=True):
                sheet.append([_inert_cell_value(value) for value in row])
    finally:
        reader.close()
    copy.save(target)
