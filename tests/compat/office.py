"""Small .docx and .pptx files built here (no library), and their text read back."""

import io
import re
import zipfile

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
P = "http://schemas.openxmlformats.org/presentationml/2006/main"


def _content_types(parts):
    overrides = "".join(f'<Override PartName="/{n}" ContentType="{c}"/>' for n, c in parts)
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/>' + overrides + "</Types>")


def _zip(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(name, data)
    return buffer.getvalue()


def docx(paragraphs):
    """A Word document: each paragraph a list of (text, bold) runs."""
    body = ""
    for runs in paragraphs:
        body += "<w:p>" + "".join(
            f'<w:r>{"<w:rPr><w:b/></w:rPr>" if bold else ""}<w:t xml:space="preserve">{text}</w:t></w:r>'
            for text, bold in runs) + "</w:p>"
    document = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{W}">'
                f"<w:body>{body}</w:body></w:document>")
    ct = _content_types([("word/document.xml",
                          "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")])
    return _zip([("[Content_Types].xml", ct), ("word/document.xml", document)])


def pptx(paragraphs):
    """A one-slide presentation with one text box of these paragraphs."""
    body = "".join(f"<a:p><a:r><a:t>{p}</a:t></a:r></a:p>" for p in paragraphs)
    slide = (f'<p:sld xmlns:a="{A}" xmlns:p="{P}"><p:cSld><p:spTree><p:sp><p:nvSpPr>'
             '<p:cNvPr id="2" name="Text"/><p:cNvSpPr/><p:nvPr/></p:nvSpPr>'
             f"<p:txBody><a:bodyPr/>{body}</p:txBody></p:sp></p:spTree></p:cSld></p:sld>")
    ct = _content_types([("ppt/slides/slide1.xml",
                          "application/vnd.openxmlformats-officedocument.presentationml.slide+xml")])
    return _zip([("[Content_Types].xml", ct), ("ppt/slides/slide1.xml", slide)])


def entry(data, name):
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read(name).decode()


def texts(xml, tag):
    """The text of each `tag` element (w:t or a:t), in order."""
    return re.findall(rf"<{tag}(?: [^>]*)?>([^<]*)</{tag}>", xml)
