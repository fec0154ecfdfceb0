"""Autograding in the judge's sandboxes: JudgeGrader implements classroom.spec.Grader."""

from .grader import JudgeGrader

__all__ = ["JudgeGrader"]
