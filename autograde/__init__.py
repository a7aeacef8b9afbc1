"""autograde: grades Jupyter notebooks of a deep-learning course.

The Python API is what the CLI calls: `autograde.pipeline.grade.grade_submission`,
`autograde.batch.run.grade_folder`, `autograde.rubric.load_assignment`.
"""

__version__ = "0.1.0"
