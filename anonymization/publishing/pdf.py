"""PDFs rewritten page by page without their metadata, scripts, actions other than jumps inside
the document, and embedded files."""

# Annotations that play, launch or carry content of their own.
PDF_ACTIVE_ANNOTATIONS = frozenset({"/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia", "/3D"})
# Entries that run something (additional and open actions, scripts), carry files (embedded and associated
# files, XFA forms) or describe people (XMP of pages and images), wherever they are.
PDF_DROPPED_KEYS = ("/AA", "/OpenAction", "/JS", "/JavaScript", "/Names", "/EmbeddedFiles", "/EF", "/AF", "/XFA",
                    "/AcroForm", "/URI", "/Metadata", "/PieceInfo", "/RichMediaContent")
# The only action kept: a jump to a place inside the document. JavaScript, Launch, URI, SubmitForm,
# ImportData, GoToR, GoToE, Rendition, … are all removed.
PDF_SAFE_ACTIONS = frozenset({"/GoTo"})
PDF_MAX_OBJECTS = 2_000_000


def _pdf_objects(start):
    """Every dictionary and array reachable from `start`, once each, not climbing to the page tree."""
    from pypdf.generic import ArrayObject, DictionaryObject

    seen, stack, count = set(), [start], 0
    while stack:
        node = stack.pop().get_object()
        if not isinstance(node, DictionaryObject | ArrayObject) or id(node) in seen:
            continue
        seen.add(id(node))
        count += 1
        if count > PDF_MAX_OBJECTS:
            raise ValueError("too many PDF objects to check")
        yield node  # the caller cleans it before its children are listed
        if isinstance(node, ArrayObject):
            stack.extend(node)
        else:
            stack.extend(value for key, value in node.items()
                         if not (key == "/Parent" and node.get("/Type") == "/Page"))


def _is_safe_action(value) -> bool:
    from pypdf.generic import DictionaryObject

    action = value.get_object()
    return isinstance(action, DictionaryObject) and action.get("/S") in PDF_SAFE_ACTIONS


def _disarm_pdf_node(node) -> None:
    from pypdf.generic import ArrayObject, DictionaryObject

    if not isinstance(node, DictionaryObject):
        return
    for key in PDF_DROPPED_KEYS:
        node.pop(key, None)
    if "/A" in node and not _is_safe_action(node.raw_get("/A")):
        del node["/A"]
    if "/S" in node:  # an action: no chained actions after a kept jump
        node.pop("/Next", None)
    annotations = node.get("/Annots")
    if isinstance(annotations, ArrayObject):
        annotations[:] = [
            annotation for annotation in annotations
            if not (isinstance(annotation.get_object(), DictionaryObject)
                    and annotation.get_object().get("/Subtype") in PDF_ACTIVE_ANNOTATIONS)
        ]


def _pdf_active_content(writer) -> list[str]:
    """What is still active in the copy (it must be nothing)."""
    from pypdf.generic import DictionaryObject

    found = []
    for node in _pdf_objects(writer.root_object):
        if isinstance(node, DictionaryObject):
            found += [key for key in PDF_DROPPED_KEYS if key in node]
            if "/A" in node and not _is_safe_action(node.raw_get("/A")):
                found.append("/A")
            if node.get("/Subtype") in PDF_ACTIVE_ANNOTATIONS:
                found.append(str(node.get("/Subtype")))
    return found


def _strip_pdf(source, target) -> None:
    """Pages only, cleaned before they are copied, so nothing removed lingers as an unused object."""
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(source, strict=False)
    writer = PdfWriter()
    for page in reader.pages:
        for node in _pdf_objects(page):
            _disarm_pdf_node(node)
        writer.add_page(page)
    found = _pdf_active_content(writer)
    if found:
        raise ValueError(f"active PDF content survived the copy: {', '.join(sorted(set(found)))}")
    writer.add_metadata({"/Producer": ""})
    writer.write(target)
