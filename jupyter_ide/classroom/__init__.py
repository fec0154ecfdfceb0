"""Classroom: assignments, autograding, grades."""
