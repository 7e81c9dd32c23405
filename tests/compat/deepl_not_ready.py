"""The `deepl` client against a Tradia whose workers do not run (TRADIA_WORKERS=0): a document
stays queued, and downloading it gives the client's DocumentNotReadyException. Prints ALL
PASSED at the end."""

import os

import deepl

import office
from pseudo import check

translator = deepl.Translator(os.environ["TRADIA_KEY"], server_url=os.environ["TRADIA_URL"])
handle = translator.translate_document_upload(office.docx([[("Still waiting.", False)]]), filename="wait.docx",
                                              target_lang="DE")
status = translator.translate_document_get_status(handle)
check(status.status.value == "queued" and not status.done, f"status: {status.status}")
# The client retries 503 with backoff before raising; a few tries are enough here.
deepl.http_client.max_network_retries = 1
try:
    translator.translate_document_download(handle)
    raise AssertionError("a document not translated yet was downloaded")
except deepl.DocumentNotReadyException as e:
    check(e.http_status_code == 503, f"not ready: {e}")
print("ALL PASSED")
