"""Hand grading: the sheet an instructor fills in, its merge into the reports, the page
that shows each answer beside its question.

spots (where a hand grade goes: the rubric's manual checks, their results and answers in a
report), sheet (export), page (sheet.html), merge (a filled-in sheet back into the reports),
carry (a regrade keeps the hand grades of unchanged answers). Files are read and written
through `autograde.batch.results_folder.ResultsFolder`.
"""
