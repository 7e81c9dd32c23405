"""What the LLM simulator answers for a text: Tradia's pseudo-translation (crates/core/src/pseudo.rs)."""

ACCENTS = str.maketrans("aeiouycnAEIOUYCN", "áéíóúýçñÁÉÍÓÚÝÇÑ")


def pseudo(text: str) -> str:
    core = text.strip()
    if not core:
        return text
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()):]
    return f"{lead}⟦{core.translate(ACCENTS)}⟧{trail}"


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print("ok:", what.split("\n")[0][:100])
