"""The task types a call can be routed by."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["TaskType"]


class TaskType(StrEnum):
    """What a call asks for. String values, so that YAML routes can name them."""

    TEXT_GENERATION = "text_generation"
    CODE_GENERATION = "code_generation"
    TRANSLATION = "translation"
    SUMMARIZATION = "summarization"
    QUESTION_ANSWERING = "question_answering"
    CLASSIFICATION = "classification"
    SENTIMENT_ANALYSIS = "sentiment_analysis"
    VISION_ANALYSIS = "vision_analysis"
    AUDIO_TRANSCRIPTION = "audio_transcription"
    STRUCTURED_OUTPUT = "structured_output"
    FUNCTION_CALLING = "function_calling"
    REASONING = "reasoning"
    MATH = "math"
