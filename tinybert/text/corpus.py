"""The pretraining corpus format of google-research/bert: one sentence per line, a blank line between
documents. Sentences are what next-sentence prediction splits at, and documents are what it must not run
across. This reads that format, as create_training_instances does, and turns it into token ids.
"""

from pathlib import Path

FORMAT = "one sentence per line, with a blank line between documents"


def read_corpus(text, source="the corpus"):
    """Documents, each a list of sentences: lines are stripped of surrounding whitespace (a Windows "\\r"
    included), blank or whitespace-only lines end a document, and empty documents are dropped.
    `source` names the text in errors (read_corpus_file passes the path)."""
    documents = [[]]
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if "\0" in line:
            raise ValueError(f"{source}, line {number}: a NUL character; is the file UTF-16 or binary? "
                             f"The corpus must be UTF-8 text, {FORMAT}")
        sentence = line.strip()
        if sentence:
            documents[-1].append(sentence)
        elif documents[-1]:
            documents.append([])
    documents = [document for document in documents if document]
    if not documents:
        where = f"lines 1 to {len(lines)} are all blank" if lines else "it is empty"
        raise ValueError(f"{source} has no sentences: {where}; expected {FORMAT}")
    return documents


def read_corpus_file(path):
    """read_corpus on a UTF-8 file (a byte-order mark is skipped); an error names the line that is not UTF-8."""
    if not Path(path).is_file():
        raise ValueError(f"{path} does not exist, or is not a file: give --corpus a text file, one sentence a line")
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ValueError(f"{path}, line {line}: not UTF-8 text ({error.reason} at byte {error.start}); "
                         f"save the corpus as UTF-8") from None
    return read_corpus(text, source=str(path))


def tokenize_documents(documents, tokenizer):
    """Each sentence as a list of token ids. A sentence the tokenizer makes nothing of is dropped, and a
    document left empty with it, as create_training_instances does. The only place the tokenizer is called."""
    tokenized = []
    for document in documents:
        sentences = [tokenizer.convert_tokens_to_ids(tokenizer.tokenize(sentence)) for sentence in document]
        sentences = [sentence for sentence in sentences if len(sentence) > 0]
        if sentences:
            tokenized.append(sentences)
    return tokenized
