"""Hugging Face BERT checkpoints in and out of tinybert: config.json, model.safetensors and vocab.txt.

Parameter names: Hugging Face's modeling_bert.py nests them as the original TensorFlow code did
(bert.encoder.layer.0.attention.self.query.weight); tinybert's are shorter
(bert.encoder.layers.0.attention.q.weight). HF_TO_OURS renames one into the other. A torch Linear
stores W as (out, in) and computes x W^T; tinybert's Linear stores (in, out) and computes x W, so
every Linear weight is transposed on the way. A checkpoint of a bare BertModel (no pretraining heads,
as all-MiniLM-L6-v2) names its weights without the "bert." prefix.
"""

import json
from pathlib import Path

from .checkpoint import check_vocabulary_fits, write_atomically, write_json
from .models.bert import BertConfig, BertForPreTraining
from .nn import Linear
from .safetensors_io import load_safetensors, save_safetensors
from .text import BertTokenizer
from .text.vocab import save_vocab

HF_TO_OURS = [  # (Hugging Face, ours), replaced in this order within each name
    (".encoder.layer.", ".encoder.layers."),
    (".attention.self.query.", ".attention.q."), (".attention.self.key.", ".attention.k."),
    (".attention.self.value.", ".attention.v."), (".attention.output.dense.", ".attention.out."),
    (".attention.output.LayerNorm.", ".attention_norm."),
    (".intermediate.dense.", ".feed_forward.up."), (".output.dense.", ".feed_forward.down."),
    (".output.LayerNorm.", ".output_norm."),
    ("cls.predictions.transform.dense.", "masked_lm.transform."),
    ("cls.predictions.transform.LayerNorm.", "masked_lm.layer_norm."),
    ("cls.predictions.bias", "masked_lm.bias"), ("cls.seq_relationship.", "next_sentence."),
    (".LayerNorm.", ".layer_norm."),
]
OURS_TO_HF = [  # the way back, in an order where no rule undoes an earlier one
    ("masked_lm.transform.", "cls.predictions.transform.dense."),
    ("masked_lm.layer_norm.", "cls.predictions.transform.LayerNorm."),
    ("masked_lm.bias", "cls.predictions.bias"), ("next_sentence.", "cls.seq_relationship."),
    (".encoder.layers.", ".encoder.layer."),
    (".attention.q.", ".attention.self.query."), (".attention.k.", ".attention.self.key."),
    (".attention.v.", ".attention.self.value."), (".attention.out.", ".attention.output.dense."),
    (".attention_norm.", ".attention.output.LayerNorm."),
    (".feed_forward.up.", ".intermediate.dense."), (".feed_forward.down.", ".output.dense."),
    (".output_norm.", ".output.LayerNorm."), (".layer_norm.", ".LayerNorm."),
]
NOT_PARAMETERS = ("embeddings.position_ids", "embeddings.token_type_ids")  # index buffers some files hold
TIED_COPIES = ("cls.predictions.decoder.weight", "cls.predictions.decoder.bias")  # the word embeddings, the bias
CONFIG_KEYS = {"vocab_size": "vocab_size", "hidden_size": "hidden_size", "num_hidden_layers": "num_layers",
               "num_attention_heads": "num_heads", "intermediate_size": "intermediate_size",
               "max_position_embeddings": "max_position_embeddings", "type_vocab_size": "type_vocab_size",
               "hidden_dropout_prob": "hidden_dropout", "attention_probs_dropout_prob": "attention_dropout",
               "layer_norm_eps": "layer_norm_eps", "pad_token_id": "pad_id"}


class HuggingFaceError(ValueError):
    """A directory that is not a Hugging Face BERT checkpoint tinybert can read."""


def our_name(hf_name):
    """tinybert's name for a Hugging Face BERT parameter name."""
    name = hf_name if hf_name.startswith(("bert.", "cls.")) else "bert." + hf_name
    for theirs, ours in HF_TO_OURS:
        name = name.replace(theirs, ours)
    return name


def hf_name(name):
    """Hugging Face's name for one of our BertForPreTraining parameter names."""
    for ours, theirs in OURS_TO_HF:
        name = name.replace(ours, theirs)
    return name


def config_from_hf(values):
    """The BertConfig of a Hugging Face config.json's contents."""
    if values.get("model_type", "bert") != "bert":
        raise HuggingFaceError(f"the checkpoint is a {values['model_type']!r} model; tinybert reads BERT")
    if values.get("hidden_act", "gelu") != "gelu":
        raise HuggingFaceError(f"the checkpoint uses hidden_act={values['hidden_act']!r}; tinybert's BERT uses "
                               "the exact erf GELU, 'gelu'")
    if values.get("position_embedding_type", "absolute") != "absolute":
        raise HuggingFaceError("the checkpoint uses relative position embeddings; tinybert's BERT learns "
                               "absolute ones")
    missing = [key for key in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads")
               if key not in values]
    if missing:
        raise HuggingFaceError(f"config.json has no {missing[0]}: is it a BERT config?")
    return BertConfig(**{ours: values[theirs] for theirs, ours in CONFIG_KEYS.items() if theirs in values})


def linear_weight_names(model):
    """Our names of the weights that belong to Linear layers: these go in transposed."""
    return {f"{name}.weight" if name else "weight" for name, module in model.named_modules()
            if isinstance(module, Linear)}


def read_hf_bert(directory):
    """(BertForPreTraining, BertTokenizer, the names of our parameters the checkpoint did not hold) from a
    Hugging Face BERT directory. Heads the checkpoint lacks (a bare BertModel has none) keep their fresh
    initial weights, as Hugging Face's from_pretrained does, and are listed."""
    directory = Path(directory)
    if not (directory / "model.safetensors").is_file() and (directory / "pytorch_model.bin").is_file():
        raise HuggingFaceError(f"{directory} holds its weights as pytorch_model.bin, a pickle, and loading a "
                               "pickle can run any code in it, so tinybert never does: convert it to safetensors first "
                               "(transformers: model.save_pretrained(directory, safe_serialization=True))")
    for file in ("config.json", "model.safetensors", "vocab.txt"):
        if not (directory / file).is_file():
            raise HuggingFaceError(f"{directory} has no {file}: a Hugging Face BERT directory holds config.json, "
                                   "model.safetensors and vocab.txt")
    config = config_from_hf(json.loads((directory / "config.json").read_text()))
    tokenizer_config = directory / "tokenizer_config.json"
    tokenizer_settings = json.loads(tokenizer_config.read_text()) if tokenizer_config.is_file() else {}
    lowercase = tokenizer_settings.get("do_lower_case", True)  # uncased unless the tokenizer's config says not
    tokenizer = BertTokenizer.from_file(directory / "vocab.txt", lowercase=lowercase)
    check_vocabulary_fits(tokenizer, config, directory / "vocab.txt")  # fewer tokens are fine: some pad the table
    model = BertForPreTraining(config)
    transposed = linear_weight_names(model)
    arrays, _ = load_safetensors(directory / "model.safetensors")
    state = {}
    for their_name, array in arrays.items():
        if their_name.endswith(NOT_PARAMETERS) or their_name in TIED_COPIES:
            continue
        name = our_name(their_name)
        state[name] = array.T if name in transposed else array
    model.load_state_dict(state, strict=False)
    unexpected = sorted(set(state) - set(model.state_dict()))
    if unexpected:
        raise HuggingFaceError(f"the checkpoint has a weight {unexpected[0]!r} that tinybert's BertForPreTraining "
                               f"does not have (and {len(unexpected) - 1} more): tinybert reads pretrained BERT "
                               "checkpoints, not ones with a fine-tuned head")
    return model, tokenizer, sorted(set(model.state_dict()) - set(state))


def write_hf_bert(model, tokenizer, directory):
    """Write `model` (a BertForPreTraining) as a Hugging Face directory that
    transformers.BertForPreTraining.from_pretrained loads with every weight in place."""
    config = model.config
    if config.embedding_width != config.hidden_size or config.share_layers or config.sentence_task == "sop":
        raise HuggingFaceError("this model uses ALBERT's options (factorised embeddings, shared layers or "
                               "sentence order): Hugging Face's BertForPreTraining has none of them")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    values = {theirs: getattr(config, ours) for theirs, ours in CONFIG_KEYS.items()}
    write_json(directory / "config.json", {"architectures": ["BertForPreTraining"], "model_type": "bert",
                                           "hidden_act": "gelu", "position_embedding_type": "absolute", **values})
    transposed = linear_weight_names(model)
    arrays = {hf_name(name): array.T if name in transposed else array for name, array in model.state_dict().items()}
    save_safetensors(directory / "model.safetensors", arrays, {"format": "pt"})
    write_atomically(directory / "vocab.txt", lambda temporary: save_vocab(tokenizer.tokens, temporary))
    write_json(directory / "tokenizer_config.json", {"do_lower_case": tokenizer.basic_tokenizer.lowercase,
                                                     "tokenizer_class": "BertTokenizer"})
