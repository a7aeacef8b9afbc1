"""Notebook-aware similarity: each task's answer code compared across the uploads of a results
folder, the template's code subtracted (answers.py: what a task's answer is; compare.py: the
fingerprints, with copydetect; page.py: the CSV and the side-by-side page)."""
