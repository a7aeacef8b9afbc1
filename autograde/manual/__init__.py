"""Hand grading: the sheet an instructor fills in, its merge into the reports, the page
that shows each answer beside its question."""
