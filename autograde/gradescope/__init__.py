"""Gradescope as a platform: the autograder archive (`archive`) and what runs from it inside
Gradescope's container (`autograder`)."""
