"""Question answering on SQuAD v1.1 and v2.0 (Rajpurkar et al. 2016, 2018), as google-research/bert's
run_squad.py and the official evaluation scripts: BERT reads [CLS] question [SEP] context [SEP] and
scores each token as the answer's start and end (tinybert/models/question_answering.py).

Read in the order the data flows: reader (SQuAD JSON, or Hugging Face rows, to SquadExamples), features
(windows of question and context, answer positions), spans (scores back to an answer text), scoring
(exact match and F1), training (fine-tuning, predicting, saving), and synthetic (a generated data set).
"""

from .features import SquadFeatures, squad_features
from .reader import SquadExample, examples_from_rows, read_squad, version_of
from .scoring import normalize_answer, score_answers
from .synthetic import synthetic_squad, write_synthetic_squad
from .training import (SquadRun, SquadSettings, load_question_answerer, predict_answers, save_squad, start_squad,
                       train_squad)

__all__ = ["SquadExample", "read_squad", "examples_from_rows", "version_of", "SquadFeatures", "squad_features",
           "score_answers", "normalize_answer", "SquadSettings", "SquadRun", "start_squad", "train_squad", "predict_answers",
           "save_squad", "load_question_answerer", "synthetic_squad", "write_synthetic_squad"]
