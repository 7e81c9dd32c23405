"""libretranslatepy, unchanged, against Tradia's LibreTranslate API (started by
crates/server/tests/compat.rs with the LLM simulator). Prints ALL PASSED at the end."""

import json
import os
import urllib.error
import urllib.request

from libretranslatepy import LibreTranslateAPI

from pseudo import check, pseudo

URL = os.environ["TRADIA_URL"]
KEY = os.environ["TRADIA_KEY"]
SMALL = os.environ["TRADIA_SMALL_QUOTA_KEY"]


def http_error(call):
    try:
        call()
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read().decode())
    raise AssertionError("the call succeeded")


lt = LibreTranslateAPI(URL, api_key=KEY)

# translate with a source language
out = lt.translate("Hello world, this is a test.", "en", "es")
check(out == pseudo("Hello world, this is a test."), f"translate en→es: {out!r}")

# translate with source=auto
out = lt.translate("Bonjour tout le monde, ceci est un essai de traduction.", "auto", "en")
check(out == pseudo("Bonjour tout le monde, ceci est un essai de traduction."), f"translate auto→en: {out!r}")

# detect
found = lt.detect("Das ist ein ganz normaler deutscher Satz über das Wetter heute.")
check(isinstance(found, list) and found[0]["language"] == "de", f"detect: {found!r}")
check(0 < found[0]["confidence"] <= 100, f"confidence 0-100: {found[0]['confidence']!r}")

# languages (a GET with a form body, as the client sends it)
languages = lt.languages()
codes = {entry["code"] for entry in languages}
check({"en", "fr", "es", "ar"} <= codes, f"languages: {len(languages)} entries")
english = next(entry for entry in languages if entry["code"] == "en")
check(english["name"] == "English" and "fr" in english["targets"] and "en" not in english["targets"],
      f"en entry: {english['name']}, {len(english['targets'])} targets")

# error paths the client raises on (urllib's HTTPError with LibreTranslate's body)
status, body = http_error(lambda: LibreTranslateAPI(URL, api_key="tdk_not-a-key").translate("Hi", "en", "fr"))
check(status == 403 and body == {"error": "Invalid API key"}, f"bad key: {status} {body}")
status, body = http_error(lambda: LibreTranslateAPI(URL).translate("Hi", "en", "fr"))
check(status == 400 and "API key" in body["error"], f"no key: {status} {body}")
status, body = http_error(lambda: lt.translate("Hi", "en", "xx"))
check(status == 400 and body == {"error": "xx is not supported"}, f"unsupported language: {status} {body}")
status, body = http_error(lambda: LibreTranslateAPI(URL, api_key=SMALL).translate("x" * 60, "en", "fr"))
check(status == 429 and "quota" in body["error"], f"quota: {status} {body}")


def post_json(path, payload, headers=None):
    request = urllib.request.Request(
        URL + path, data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request) as response:
        return response.headers, json.loads(response.read().decode())


# JSON batch with source=auto (Mastodon's and Weblate's form), CORS for other sites
headers, body = post_json("translate", {"q": ["Good morning to all of you.", "Bonjour à tous et à toutes, mes amis."],
                                        "source": "auto", "target": "de", "api_key": KEY},
                          {"Origin": "https://elsewhere.example"})
check(body["translatedText"] == [pseudo("Good morning to all of you."), pseudo("Bonjour à tous et à toutes, mes amis.")],
      f"batch: {body['translatedText']!r}")
check([d["language"] for d in body["detectedLanguage"]] == ["en", "fr"], f"batch detection: {body['detectedLanguage']!r}")
check(headers["Access-Control-Allow-Origin"] == "*", "CORS *")

# format=html: the inline tags come back intact around the translated words
_, body = post_json("translate", {"q": '<p>Press <b>the red</b> button, then <a href="/x">read more</a>.</p>',
                                  "source": "en", "target": "fr", "format": "html", "api_key": KEY})
out = body["translatedText"]
check(out.startswith("<p>") and out.endswith("</p>") and "<b>" + pseudo("the red") + "</b>" in out
      and '<a href="/x">' in out and "</a>" in out and pseudo("Press").rstrip() in out, f"html: {out!r}")

# alternatives are accepted (an empty list: the model gives one translation)
_, body = post_json("translate", {"q": "One more time.", "source": "en", "target": "it", "alternatives": 2, "api_key": KEY})
check(body["alternatives"] == [] and body["translatedText"] == pseudo("One more time."), f"alternatives: {body!r}")

# suggestions are disabled; the frontend settings say keys are required
status, body = http_error(lambda: post_json("suggest", {"q": "a", "s": "b", "source": "en", "target": "fr"}))
check(status == 403 and "disabled" in body["error"], f"suggest: {status} {body}")
with urllib.request.urlopen(URL + "frontend/settings") as response:
    settings = json.loads(response.read().decode())
check(settings["keyRequired"] is True and settings["apiKeys"] is True, f"frontend settings: {settings}")

# translate_file (multipart, synchronous) and the download URL, fetched without a key
import requests  # noqa: E402  (installed with deepl)

import office  # noqa: E402

docx = office.docx([[("Your order ", False), ("has shipped", True)]])
response = requests.post(URL + "translate_file", data={"source": "en", "target": "fr", "api_key": KEY},
                         files={"file": ("order.docx", docx)})
check(response.status_code == 200, f"translate_file: {response.status_code} {response.text}")
url = response.json()["translatedFileUrl"]
check(url.startswith(URL + "download_file/"), f"translatedFileUrl: {url}")
download = requests.get(url)
check(download.status_code == 200 and pseudo("has shipped") in office.entry(download.content, "word/document.xml"),
      "downloaded without a key")
parts = url.split("/")
parts[-2] = "0" * 64
check(requests.get("/".join(parts)).status_code == 404, "a wrong token is not found")
response = requests.post(URL + "translate_file", data={"source": "en", "target": "fr"},
                         files={"file": ("order.docx", docx)})
check(response.status_code == 400 and "API key" in response.json()["error"], "translate_file needs a key")

print("ALL PASSED")
