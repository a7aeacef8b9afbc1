"""autograde: grades Jupyter notebooks of a deep-learning course.

The Python API is what the CLI calls: `autograde.grading.grade_submission`,
`autograde.batch.grade_folder`, `autograde.rubric.load_assignment`.
"""

__version__ = "0.1.0"
