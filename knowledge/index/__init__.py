"""Building and publishing the search index: the sentence encoder, the lexical BM25 index and the versioned build."""
