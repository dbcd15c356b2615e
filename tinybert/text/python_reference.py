"""The built-in corpus: the Python language reference that ships inside every CPython as
`pydoc_data.topics` (about 65,000 words of real English prose), so `tinybert pretrain --tiny`
needs no download.

It comes as 79 topics of reStructuredText-like text. Each section of a topic (a heading underlined
with *, =, - or ~) becomes a document; code examples (lines indented deeper than their paragraph,
and interactive sessions) and tables are left out; paragraphs are split into sentences at ". ", "? " or "! "
before a capital letter or a quote. The result has the shape of google-research/bert's corpus
format: documents of sentences.
"""

import re

HEADING_UNDERLINE = re.compile(r"^([*=\-~^])\1{2,}\s*$")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
MIN_SENTENCE_WORDS = 3


def split_sections(topic_text):
    """The sections of one topic, each a list of lines: a new one starts at every underlined heading."""
    lines = topic_text.splitlines()
    sections, current = [], []
    for number, line in enumerate(lines):
        is_heading = number + 1 < len(lines) and HEADING_UNDERLINE.match(lines[number + 1]) and line.strip()
        if is_heading:
            if current:
                sections.append(current)
            current = []
        elif not HEADING_UNDERLINE.match(line):
            current.append(line)
    if current:
        sections.append(current)
    return sections


def prose_paragraphs(lines):
    """Paragraphs of prose: runs of non-blank lines, without code (lines indented deeper than the
    paragraph's first line, and interactive sessions), table rows, and the "::" lines that announce code."""
    paragraphs, current, base_indent = [], [], None
    for line in lines + [""]:
        if not line.strip():
            if current:
                paragraphs.append(" ".join(current))
            current, base_indent = [], None
            continue
        indent = len(line) - len(line.lstrip())
        base_indent = indent if base_indent is None else base_indent
        if indent <= base_indent and not line.lstrip().startswith((">>>", "...", "+-", "|")):  # no code, no tables
            current.append(line.strip())
    return [paragraph for paragraph in paragraphs if not paragraph.endswith("::")]


def sentences_of(paragraph):
    """The sentences of a paragraph with at least MIN_SENTENCE_WORDS words, grammar productions left out."""
    sentences = (sentence.strip() for sentence in SENTENCE_END.split(" ".join(paragraph.split())))
    return [sentence for sentence in sentences
            if len(sentence.split()) >= MIN_SENTENCE_WORDS and "::=" not in sentence]  # no grammar rules


def python_reference_documents():
    """The language reference as documents (lists of sentences), in a fixed order; a section with
    fewer than two sentences is left out, since a next-sentence pair needs two."""
    from pydoc_data.topics import topics

    documents = []
    for name in sorted(topics):
        for section in split_sections(topics[name]):
            sentences = [sentence for paragraph in prose_paragraphs(section) for sentence in sentences_of(paragraph)]
            if len(sentences) >= 2:
                documents.append(sentences)
    return documents
