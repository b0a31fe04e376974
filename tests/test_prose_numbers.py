"""Every number in the prose is computed: no numeral is typed by hand.

The book promises that the numbers its prose states are computed when the page
is built (myst-nb ``glue``, ``{glue:text}`` roles) and asserted by a hidden
check. This test reads the markdown of every page in ``_toc.yml`` (the JSON of
the .ipynb, never executing it, or the .md file) and fails on each numeral that
the prose types by hand, naming the page and the sentence.

What is not prose, and is skipped:

- math (``$...$``, ``$$...$$``, the ``{math}`` role and directive): a constant
  that a sentence defines is written there, ``$k = 20$``, ``$n = 1{,}000$``;
- code: inline ``code`` and fenced blocks (``literalinclude``, ``code-cell``);
  directive options (``:pyobject:``, ``:width:``);
- every role's target: ``{cite}``, ``{doc}``, ``{ref}``, ``{glue:text}`` ...;
- headings, HTML comments, tags, URLs and link targets (image paths included);
- the markers of numbered lists, version numbers with two dots (7.0.0) and
  the names 1-D, 2-D, 3-D of the line, the plane and space.

Numerals that are allowed in prose, each for a reason:

- years, 1900-2099: dates of papers and data sets;
- identifiers: a numeral right after a naming word (exercise 3, section 5,
  stage 0, cluster 2, home 4, seed 0, the seeds 0, 1 and 2, digits 0 to 9):
  it names a thing, it measures nothing;
- the version in a licence's name ("CC BY-SA 3.0");
- a confidence level naming an interval ("the 95% Wilson interval"): a
  convention the sentence chooses, like a constant;
- the bare integers 0 and 1: the ends of scales ("1 means identical
  partitions") and first indices; no result of the book is a bare 0 or 1 that a
  sentence could type (a perfect score is glued like any other);
- facts of the MNIST files that ``lib.datasets`` asserts when it reads them
  (the IDX headers give 60,000 training and 10,000 test images of 28 x 28 =
  784 pixels; 70,000 in all), on pages that mention MNIST;
- ``ALLOWED``, a short per-page list of phrases with a reason each: constants
  the visible code beside the sentence sets, which read badly as math. An entry
  that no longer occurs in its page fails, so the list cannot go stale.

Numbers written as words are not scanned in general (a detector of "two" and
"three" over everything would be noise). The few phrasings that carry a result
in words are: a ratio ("two digits in three", "one run in four") and a
multiple ("several times less wall time", "about seven times longer") and a
duration ("it took about six minutes on a GPU"). They are caught, and are to be
glued or rewritten like numerals.

Everything else is an offender: glue it from the computation and assert it in
the hidden ``remove-cell`` check cell, or, for a constant the sentence
defines, write it in math.
"""

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def toc_pages():
    toc = (ROOT / "_toc.yml").read_text()
    names = re.findall(r"^root:\s*(\S+)", toc, flags=re.M)
    names += re.findall(r"file:\s*(\S+)", toc)
    pages = []
    for name in names:
        for suffix in (".ipynb", ".md"):
            path = ROOT / (name + suffix)
            if path.exists():
                pages.append(path)
                break
        else:
            raise FileNotFoundError(f"_toc.yml names {name}, which has no page")
    return pages


PAGES = toc_pages()

# Directives whose body is prose (scanned); every other fenced block is code,
# math or an include and is skipped whole.
PROSE_DIRECTIVES = {
    "admonition",
    "attention",
    "caution",
    "danger",
    "dropdown",
    "epigraph",
    "error",
    "exercise",
    "figure",
    "hint",
    "important",
    "margin",
    "note",
    "seealso",
    "sidebar",
    "solution",
    "tip",
    "topic",
    "warning",
}

NAMING_WORDS = (
    "exercises?|sections?|chapters?|figures?|equations?|eqs?\\.|steps?|stages?|"
    "questions?|parts?|homes?|clusters?|labels?|seeds?|digits?|rows?|columns?|"
    "nodes?|issue|#"
)
NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
NUMERAL = re.compile(rf"(?<![\w.,\-−]){NUM}%?(?![\w])")
IDENTIFIER = re.compile(
    rf"\b(?:{NAMING_WORDS})\s+{NUM}(?:(?:,\s*|\s+(?:and|or|to)\s+){NUM})*",
    flags=re.I,
)
YEAR = re.compile(r"^(19|20)\d\d$")
LICENCE = re.compile(r"\b(?:Attribution(?:-Share ?Alike)?|CC BY(?:-SA)?)\s+\d\.\d\b")
CONFIDENCE = re.compile(r"\b(?:90|95|99)% (?:\w+ )?(?:interval|confidence)")
MNIST_FACT = re.compile(r"\b(?:[167]0,000|784|28\s*[×x]\s*28)\b")
WORD_NUMBER = (
    "one|two|three|four|five|six|seven|eight|nine|ten|several|many|a few|"
    "a hundred|hundreds of|a thousand"
)
RESULT_IN_WORDS = [
    re.compile(
        r"\b(?:one|two|three|four|five|six|seven|eight|nine)\s+(?:\w+\s+){0,2}"
        r"in\s+(?:two|three|four|five|six|seven|eight|nine|ten)\b",
        flags=re.I,
    ),
    re.compile(
        rf"\b(?:{WORD_NUMBER})\s+times\s+(?:less|more|fewer|faster|slower|"
        r"larger|smaller|longer|shorter|as|higher|lower|the)\b",
        flags=re.I,
    ),
    re.compile(
        rf"\b(?:{WORD_NUMBER}|twenty|thirty|forty|fifty|sixty)\s+"
        r"(?:seconds|minutes|hours)\b",
        flags=re.I,
    ),
]

# Per page: phrases allowed verbatim, each with its reason. Keep it short.
ALLOWED = {
    "deep_clustering": {
        "N2D reports 0.948 on MNIST-test after 1,000 epochs": (
            "the published result and budget of N2D, cited (mcconville2019) in the "
            "same sentence: a record of the paper, not of this page's run"
        ),
        "N2D trains for 1,000": "the same published budget, recalled",
    },
}


def markdown_cells(path):
    if path.suffix == ".md":
        return [path.read_text()]
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]


FENCE = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})\s*(?:\{([^}]*)\})?(.*)$")


def strip_fences(text):
    """Blank every fenced block that is not prose; keep prose directives' bodies."""
    out, stack = [], []  # stack of (fence char, fence length, body is prose)
    for line in text.split("\n"):
        m = FENCE.match(line)
        if stack and m and not m.group(2) and not m.group(3).strip():
            char, length, _ = stack[-1]
            if m.group(1)[0] == char and len(m.group(1)) >= length:
                stack.pop()
                out.append("")
                continue
        if m and (not stack or stack[-1][2]):
            name = (m.group(2) or "").strip()
            stack.append((m.group(1)[0], len(m.group(1)), name in PROSE_DIRECTIVES))
            out.append("")
            continue
        if stack and (not stack[-1][2] or re.match(r"^\s*:[\w-]+:", line)):
            out.append("")
            continue
        out.append(line)
    return "\n".join(out)


def prose(text):
    """The prose of a markdown cell: what a reader reads as running text."""
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = strip_fences(text)
    text = "\n".join("" if re.match(r"^\s*#", ln) else ln for ln in text.split("\n"))
    text = re.sub(r"^(\s*)\d+[.)]\s", r"\1", text, flags=re.M)  # list markers
    text = re.sub(r"\b\d+(?:\.\d+){2,}\b", " ", text)  # versions: otter 7.0.0
    text = re.sub(r"\b[123]-D\b", " ", text)  # the plane and space: 2-D, 3-D
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"(?<!\\)\$[^$]+?(?<!\\)\$", " ", text, flags=re.S)
    text = re.sub(r"\{[\w:.-]+\}`[^`]*`", " ", text)  # roles: cite, doc, glue, math
    text = re.sub(r"(`+).+?\1", " ", text, flags=re.S)  # inline code
    text = re.sub(r"\]\([^)]*\)", "]", text)  # link and image targets
    text = re.sub(r"https?://\S+", " ", text)
    text = re.sub(r"<[^>]+>", " ", text)
    return text


def sentences(text):
    for paragraph in re.split(r"\n\s*\n", text):
        flat = " ".join(paragraph.split())
        yield from (s for s in re.split(r"(?<=[.!?:;])\s+", flat) if s)


def offenders(path):
    """(numeral, sentence) for every hand-typed number on the page."""
    allowed = ALLOWED.get(path.stem, {})
    mnist = "MNIST" in path.read_text()
    found = []
    for cell in markdown_cells(path):
        for sentence in sentences(prose(cell)):
            masked = sentence
            for phrase in allowed:
                masked = masked.replace(phrase, " " * len(phrase))
            spans = [m.span() for m in IDENTIFIER.finditer(masked)]
            spans += [m.span() for m in CONFIDENCE.finditer(masked)]
            spans += [m.span() for m in LICENCE.finditer(masked)]
            if mnist:
                spans += [m.span() for m in MNIST_FACT.finditer(masked)]
            for m in NUMERAL.finditer(masked):
                number = m.group()
                if YEAR.match(number) or number in ("0", "1"):
                    continue
                if any(a <= m.start() and m.end() <= b for a, b in spans):
                    continue
                found.append((number, sentence))
            for pattern in RESULT_IN_WORDS:
                found += [(m.group(), sentence) for m in pattern.finditer(masked)]
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_no_hand_typed_numbers_in_prose(page):
    found = offenders(page)
    report = "\n".join(f"  {number!r} in: {sentence}" for number, sentence in found)
    assert not found, (
        f"{page.name}: {len(found)} numbers typed by hand in the prose; glue each "
        f"from the computation and assert it in the hidden check cell, or write a "
        f"constant the sentence defines in math:\n{report}"
    )


def test_allow_list_is_current():
    pages = {p.stem: p for p in PAGES}
    for stem, phrases in ALLOWED.items():
        assert stem in pages, f"ALLOWED names {stem}, which is not in _toc.yml"
        text = " ".join(prose(c) for c in markdown_cells(pages[stem]))
        flat = " ".join(text.split())
        stale = [phrase for phrase in phrases if phrase not in flat]
        assert not stale, f"{stem}: allowed phrases no longer in the page: {stale}"


def test_the_check_catches_what_it_must():
    """The examples of issue #19 are offenders; math, code and glue are not."""
    cell = (
        "Roughly two digits in three are recognized, almost 200 times fewer. "
        "Mini-batch takes several times less wall time, about six minutes on a "
        "GPU. With $k = 3$ and "
        "`n_init=10`, accuracy {glue:text}`acc:.3f` {cite}`lloyd1982` in 1982; "
        "see exercise 3 and the seeds 0, 1 and 2."
    )
    found = [number for number, _ in offenders(ExamplePage(cell))]
    want = ["200", "two digits in three", "several times less", "six minutes"]
    assert found == want, found
    listed = "1. Assign.\n2. Update.\n\nThe 10,000 MNIST test images, 28 x 28 pixels."
    assert offenders(ExamplePage(listed)) == []


class ExamplePage:
    """A one-cell .md page made of the given text."""

    stem = "_example"
    suffix = ".md"

    def __init__(self, text):
        self.text = text

    def read_text(self):
        return self.text
