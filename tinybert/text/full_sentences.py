"""RoBERTa's FULL-SENTENCES inputs (Liu et al. 2019, section 4.2): no sentence pairs and no next-sentence
task, only text, packed as full as it goes.

"Each input is packed with full sentences sampled contiguously from one or more documents, such that the
total length is at most 512 tokens. Inputs may cross document boundaries. When we reach the end of one
document, we begin sampling sentences from the next document and add an extra separator token between
documents." In BERT's tokens that is [CLS] sentences [SEP] sentences of the next document [SEP]: the
sentences follow one another in their documents' order, and an input ends where the next sentence would
not fit. A sentence too long for an input on its own is the one thing cut: into pieces of a whole input.
"""


def sentences_that_fit(documents, room):
    """(sentence, starts_a_document) in reading order, every sentence of more than `room` tokens cut into
    pieces of `room` (the last piece shorter); only a document's first piece starts it."""
    for document in documents:
        first = True  # the document's first piece (an empty sentence yields none)
        for sentence in document:
            for start in range(0, len(sentence), room):
                yield sentence[start:start + room], first
                first = False


def pack_full_sentences(documents, max_seq_length, cls_id, sep_id):
    """The documents (lists of sentences, each a list of token ids), in the order given, packed into
    inputs of at most max_seq_length ids: [CLS], whole sentences with [SEP] between two documents, [SEP].
    Returns a list of lists of ids; every input but the last has no room left for the sentence after it."""
    room = max_seq_length - 2  # [CLS] and the final [SEP]
    if room < 1:
        raise ValueError(f"max_seq_length={max_seq_length} leaves no room for a token between [CLS] and [SEP]: "
                         "use 3 or more")
    inputs, packed = [], []
    for sentence, starts_a_document in sentences_that_fit(documents, room):
        separator = [sep_id] if starts_a_document and packed else []  # a new document, in the middle of an input
        if len(packed) + len(separator) + len(sentence) > room:
            inputs.append([cls_id, *packed, sep_id])
            packed, separator = [], []
        packed += separator + sentence
    if packed:
        inputs.append([cls_id, *packed, sep_id])
    return inputs
