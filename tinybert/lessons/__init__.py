"""Lessons that take a computation apart step by step and prove every gradient (`tinybert explain`)."""

from .attention import attention_lesson
from .lesson import GradientCheck, Lesson, Step
from .render import as_markdown, as_text
from .scores import score_lesson
from .single_ops import cross_entropy_lesson, gelu_lesson, layernorm_lesson, softmax_lesson

LESSONS = {"attention": attention_lesson, "softmax": softmax_lesson, "layernorm": layernorm_lesson,
           "cross-entropy": cross_entropy_lesson, "gelu": gelu_lesson}

__all__ = ["LESSONS", "GradientCheck", "Lesson", "Step", "as_markdown", "as_text", "score_lesson"]
