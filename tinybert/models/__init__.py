"""The models, each a readable file of modules: attention, then the Transformer, then BERT."""
