"""Reporters: turn GradeReports into files and console output. Models hold no formatting."""
