"""What BertConfig and GPTConfig share: the named sizes, and their config.json in and out."""

from dataclasses import asdict, fields

PRESETS = {  # google-research/bert's names for its smaller models (Turc et al. 2019) and BERT-Base
    "tiny": dict(num_layers=2, hidden_size=128, num_heads=2, intermediate_size=512),
    "mini": dict(num_layers=4, hidden_size=256, num_heads=4, intermediate_size=1024),
    "small": dict(num_layers=4, hidden_size=512, num_heads=8, intermediate_size=2048),
    "base": dict(num_layers=12, hidden_size=768, num_heads=12, intermediate_size=3072),
}


class ModelConfig:
    """A dataclass's presets and plain-dict form (the base of BertConfig and GPTConfig)."""

    @classmethod
    def preset(cls, name, vocab_size, **overrides):
        """A named size (tiny, mini, small, base) for this vocabulary, with any field overridden."""
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}: use one of {', '.join(PRESETS)}")
        return cls(vocab_size=vocab_size, **{**PRESETS[name], **overrides})

    def to_dict(self):
        """The fields as a plain dict, ready for json.dump into config.json."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values):
        """The config that `to_dict` wrote; a key the config does not have is a ValueError naming it."""
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"config has keys {cls.__name__} does not know: {', '.join(unknown)} "
                             f"(the known keys are {', '.join(sorted(known))}); was it written by another program?")
        return cls(**values)
