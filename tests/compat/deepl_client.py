"""The official `deepl` Python client, unchanged, against Tradia's DeepL API (started by
crates/server/tests/compat.rs with the LLM simulator). Prints ALL PASSED at the end."""

import os
import pathlib
import tempfile

import deepl

import office
from pseudo import check, pseudo

URL = os.environ["TRADIA_URL"]
KEY = os.environ["TRADIA_KEY"]
SMALL = os.environ["TRADIA_SMALL_QUOTA_KEY"]

translator = deepl.Translator(KEY, server_url=URL)

# translate_text with a source language
result = translator.translate_text("Hello world, this is a test.", source_lang="EN", target_lang="DE")
check(result.text == pseudo("Hello world, this is a test."), f"with source: {result.text!r}")
check(result.detected_source_lang == "EN", f"detected_source_lang echoes the source: {result.detected_source_lang}")
check(result.billed_characters == len("Hello world, this is a test."), f"billed: {result.billed_characters}")

# without a source language: detected, several texts
results = translator.translate_text(
    ["Bonjour tout le monde, ceci est un essai de traduction.", "Das ist ein ganz normaler deutscher Satz."],
    target_lang="EN-GB")
check([r.text for r in results] == [pseudo("Bonjour tout le monde, ceci est un essai de traduction."),
                                     pseudo("Das ist ein ganz normaler deutscher Satz.")], "two texts")
check([r.detected_source_lang for r in results] == ["FR", "DE"], f"detected: {[r.detected_source_lang for r in results]}")

# formality and context are accepted
result = translator.translate_text("How are you today?", source_lang="EN", target_lang="FR",
                                   formality="more", context="A letter to a customer.")
check(result.text == pseudo("How are you today?"), f"formality: {result.text!r}")
result = translator.translate_text("How are you today?", source_lang="EN", target_lang="FR",
                                   formality="prefer_less")
check(result.text == pseudo("How are you today?"), "formality prefer_less")

# tag_handling: the tags come back intact around the translated words
result = translator.translate_text('Press <b>the red</b> button <x id="1"/> now.', source_lang="EN",
                                   target_lang="ES", tag_handling="xml", ignore_tags=["x"])
check(result.text.startswith(pseudo("Press").rstrip()) and "<b>" + pseudo("the red") + "</b>" in result.text
      and '<x id="1"/>' in result.text, f"xml: {result.text!r}")
result = translator.translate_text('<p>Read <a href="https://example.org/">the guide</a> first.</p>',
                                   source_lang="EN", target_lang="IT", tag_handling="html")
check(result.text.startswith("<p>") and '<a href="https://example.org/">' + pseudo("the guide") + "</a>" in result.text,
      f"html: {result.text!r}")

# glossaries: create, use, entries, list, delete
glossary = translator.create_glossary("Shop terms", source_lang="EN", target_lang="DE",
                                      entries={"shopping cart": "Warenkorb", "checkout": "Kasse"})
check(glossary.entry_count == 2 and glossary.ready and glossary.source_lang == "EN" and glossary.target_lang == "DE",
      f"created: {glossary}")
result = translator.translate_text("Open the shopping cart before the checkout.", source_lang="EN",
                                   target_lang="DE", glossary=glossary)
check("Warenkorb" in result.text and "Kasse" in result.text and "shópping" not in result.text,
      f"glossary applied: {result.text!r}")
other = translator.create_glossary("More terms", source_lang="EN", target_lang="DE", entries={"order": "Bestellung"})
result = translator.translate_text("Your order is in the shopping cart.", source_lang="EN", target_lang="DE",
                                   glossary_ids=[glossary, other])
check("Warenkorb" in result.text and "Bestellung" in result.text, f"glossary_ids: {result.text!r}")
translator.delete_glossary(other)
check(translator.get_glossary_entries(glossary) == {"shopping cart": "Warenkorb", "checkout": "Kasse"}, "entries")
check(glossary.glossary_id in [g.glossary_id for g in translator.list_glossaries()], "listed")
check(translator.get_glossary(glossary.glossary_id).name == "Shop terms", "get")
pairs = translator.get_glossary_languages()
check(any(p.source_lang == "en" and p.target_lang == "de" for p in pairs), f"{len(pairs)} glossary pairs")
translator.delete_glossary(glossary)
try:
    translator.get_glossary(glossary.glossary_id)
    raise AssertionError("a deleted glossary was found")
except deepl.GlossaryNotFoundException as e:
    check(e.http_status_code == 404, f"deleted: {e}")
try:
    translator.translate_text("The checkout.", source_lang="EN", target_lang="DE", glossary=glossary.glossary_id)
    raise AssertionError("a deleted glossary was used")
except deepl.DeepLException as e:
    check(e.http_status_code == 404, f"translate with a deleted glossary: {e}")

# languages
sources = translator.get_source_languages()
targets = translator.get_target_languages()
check({"EN", "FR", "DE", "AR"} <= {l.code for l in sources}, f"{len(sources)} source languages")
check({"EN-GB", "EN-US", "FR", "PT-BR"} <= {l.code for l in targets}, f"{len(targets)} target languages")
check(all(l.supports_formality for l in targets), "targets support formality")

# usage counts what was translated
usage = translator.get_usage()
check(usage.character.valid and usage.character.count > 0, f"usage: {usage.character.count} of {usage.character.limit}")

# error paths: the client's documented exceptions
try:
    deepl.Translator("tdk_wrong-key", server_url=URL).translate_text("Hi", target_lang="DE")
    raise AssertionError("a bad key was accepted")
except deepl.AuthorizationException as e:
    check(e.http_status_code == 403, f"bad key: {e}")
try:
    deepl.Translator(SMALL, server_url=URL).translate_text("x" * 60, target_lang="DE")
    raise AssertionError("the quota was not enforced")
except deepl.QuotaExceededException as e:
    check(e.http_status_code == 456, f"quota: {e}")
try:
    translator.translate_text("Hi", target_lang="XX")
    raise AssertionError("an unknown language was accepted")
except deepl.DeepLException as e:
    check(e.http_status_code == 400 and "target_lang" in str(e), f"unsupported language: {e}")

# documents: a .docx and a .pptx through the job pipeline
work = pathlib.Path(tempfile.mkdtemp())
(work / "letter.docx").write_bytes(office.docx([[("Dear customer,", False)],
                                               [("Your order ", False), ("has shipped", True), (" today.", False)]]))
translator.translate_document_from_filepath(work / "letter.docx", work / "letter.de.docx", source_lang="EN",
                                            target_lang="DE")
xml = office.entry((work / "letter.de.docx").read_bytes(), "word/document.xml")
check(office.texts(xml, "w:t") == [pseudo("Dear customer,"), pseudo("Your order "), pseudo("has shipped"),
                                   pseudo(" today.")] or pseudo("has shipped") in xml, f"docx: {office.texts(xml, 'w:t')}")
check("<w:b/>" in xml, "docx keeps the bold run")
(work / "slides.pptx").write_bytes(office.pptx(["Quarterly results", "Sales grew in every region."]))
translator.translate_document_from_filepath(work / "slides.pptx", work / "slides.fr.pptx", target_lang="FR")
xml = office.entry((work / "slides.fr.pptx").read_bytes(), "ppt/slides/slide1.xml")
check(office.texts(xml, "a:t") == [pseudo("Quarterly results"), pseudo("Sales grew in every region.")],
      f"pptx: {office.texts(xml, 'a:t')}")

# a document downloaded once is gone, and a wrong document key finds nothing
handle = translator.translate_document_upload((work / "letter.docx").read_bytes(), filename="again.docx",
                                              target_lang="FR")
status = translator.translate_document_wait_until_done(handle)
check(status.ok and status.done, f"done: {status.status}")
out = translator.translate_document_download(handle)
check(pseudo("has shipped") in office.entry(out.content, "word/document.xml"), "downloaded")
try:
    translator.translate_document_get_status(handle)
    raise AssertionError("the document is still there after its download")
except deepl.DeepLException as e:
    check(e.http_status_code == 404, f"deleted after download: {e}")
try:
    translator.translate_document_get_status(deepl.DocumentHandle(handle.document_id, "0" * 64))
    raise AssertionError("a wrong document key was accepted")
except deepl.DeepLException as e:
    check(e.http_status_code == 404, "a wrong key is not found")

print("ALL PASSED")
