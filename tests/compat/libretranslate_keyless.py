"""libretranslatepy without a key against a Tradia whose LibreTranslate API is mounted under a
prefix with the keyless mode on. Prints ALL PASSED at the end."""

import json
import os
import urllib.error
import urllib.request

from libretranslatepy import LibreTranslateAPI

from pseudo import check, pseudo

URL = os.environ["TRADIA_URL"]

lt = LibreTranslateAPI(URL)
out = lt.translate("Keyless calls work here.", "en", "fr")
check(out == pseudo("Keyless calls work here."), f"keyless translate: {out!r}")
try:
    LibreTranslateAPI(URL, api_key="tdk_wrong").translate("Hi", "en", "fr")
    raise AssertionError("a wrong key was accepted")
except urllib.error.HTTPError as e:
    check(e.code == 403, f"a wrong key is still refused: {e.code}")
with urllib.request.urlopen(URL + "frontend/settings") as response:
    check(json.loads(response.read().decode())["keyRequired"] is False, "keyRequired false")
# The root is not LibreTranslate's any more.
root = URL.rsplit("/lt/", 1)[0] + "/"
try:
    LibreTranslateAPI(root).translate("Hi", "en", "fr")
    raise AssertionError("the API answered outside its prefix")
except urllib.error.HTTPError as e:
    check(e.code in (404, 405), f"outside the prefix: {e.code}")
print("ALL PASSED")
